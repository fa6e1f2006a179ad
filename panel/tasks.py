from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from panel.jobs.runner import JobContext, run_job
from panel.jobs.services import reap_stale
from panel.models import Job, JobLogLine, LoginFailure

PRUNE_BATCH = 200


@shared_task(name="panel.reap_stale_jobs", ignore_result=True)
def reap_stale_jobs() -> list[int]:
    forget_old_login_failures()
    return reap_stale()


def forget_old_login_failures() -> int:
    """Failed sign-ins older than the rate-limit window no longer count; drop them."""
    cutoff = timezone.now() - timedelta(seconds=settings.PANEL_LOGIN_WINDOW_SECONDS)
    deleted, _ = LoginFailure.objects.filter(at__lt=cutoff).delete()
    return deleted


@shared_task(name="panel.prune_job_logs", ignore_result=True)
def prune_job_logs() -> int:
    """Drop the log lines of jobs that ended more than PANEL_JOB_LOG_DAYS ago (0 keeps them
    all). The jobs stay, with how they ended; the audit trail is never pruned."""
    cutoff = job_log_cutoff()
    if cutoff is None:
        return 0
    removed = 0
    while True:
        ended = Job.objects.filter(finished_at__lt=cutoff, log_lines__isnull=False)
        batch = list(ended.values_list("pk", flat=True).distinct()[:PRUNE_BATCH])
        if not batch:
            return removed
        deleted, _ = JobLogLine.objects.filter(job_id__in=batch).delete()
        removed += deleted


def job_log_cutoff() -> datetime | None:
    days = settings.PANEL_JOB_LOG_DAYS
    return timezone.now() - timedelta(days=days) if days > 0 else None


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
