"""The audit verification job: recompute the hash chain and report each break."""

from __future__ import annotations

from panel.audit import verify_chain
from panel.jobs.runner import JobContext, JobFailed
from panel.models import AuditEvent, LogKind


def verify_audit_chain(context: JobContext) -> None:
    context.log(f"Checking {AuditEvent.objects.count()} audit events…")
    problems = 0
    for problem in verify_chain():
        context.check_cancelled()
        problems += 1
        context.log(f"Event {problem.event_id}: {problem.reason}", LogKind.ERROR)
    if problems:
        raise JobFailed(f"The audit chain is broken in {problems} place(s).")
    context.log("The audit chain is intact.")
