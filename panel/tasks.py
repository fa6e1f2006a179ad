from __future__ import annotations

from celery import shared_task

from panel.jobs.runner import JobContext, run_job
from panel.jobs.services import reap_stale


@shared_task(name="panel.reap_stale_jobs", ignore_result=True)
def reap_stale_jobs() -> list[int]:
    return reap_stale()


@shared_task(name="panel.verify_audit_chain", soft_time_limit=600, time_limit=660)
def verify_audit_chain(job_id: int) -> str | None:
    return run_job(job_id, verify_audit_chain_operation)


def verify_audit_chain_operation(context: JobContext) -> None:
    from panel.audit import verify_chain
    from panel.jobs.runner import JobFailed
    from panel.models import AuditEvent

    context.log(f"Checking {AuditEvent.objects.count()} audit events…")
    problems = 0
    for problem in verify_chain():
        context.check_cancelled()
        problems += 1
        context.log(f"Event {problem.event_id}: {problem.reason}", "err")
    if problems:
        raise JobFailed(f"The audit chain is broken in {problems} place(s).")
    context.log("The audit chain is intact.")
