from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from panel.jobs.reaper import reap_stale
from panel.jobs.runner import run_job
from panel.models import Job, JobLogLine, LoginFailure
from panel.operations import verify_audit

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
    return run_job(job_id, verify_audit.verify_audit_chain)
