from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from panel.jobs.runner import JobContext, run_job
from panel.jobs.services import reap_stale
from panel.models import LoginFailure


@shared_task(name="panel.reap_stale_jobs", ignore_result=True)
def reap_stale_jobs() -> list[int]:
    forget_old_login_failures()
    return reap_stale()


def forget_old_login_failures() -> int:
    """Failed sign-ins older than the rate-limit window no longer count; drop them."""
    cutoff = timezone.now() - timedelta(seconds=settings.PANEL_LOGIN_WINDOW_SECONDS)
    deleted, _ = LoginFailure.objects.filter(at__lt=cutoff).delete()
    return deleted


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
