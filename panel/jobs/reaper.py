"""The reaper: running jobs whose worker stopped heartbeating are marked interrupted, their
locks freed, and apps told so they can remove what the job left behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import django.dispatch
from django.conf import settings
from django.utils import timezone

from panel import audit
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.log import JobLog, publish
from panel.models import AuditAction, Job, JobStatus, LogKind

# Sent after the reaper marks a job interrupted, so apps can remove what it left behind.
job_interrupted = django.dispatch.Signal()


def reap_stale(now: Callable[[], Any] = timezone.now) -> list[int]:
    """Mark running jobs whose heartbeat stopped as interrupted and free their locks."""
    cutoff = now() - timedelta(seconds=settings.PANEL_JOB_STALE_SECONDS)
    reaped: list[int] = []
    for job in Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff):
        if not Job.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=cutoff
        ).update(
            status=JobStatus.INTERRUPTED,
            finished_at=now(),
            error="The worker stopped responding (killed or lost); the job was interrupted.",
        ):
            continue
        log = JobLog(job.pk)
        log.write(
            "No heartbeat from the worker: marked interrupted, locks released.", LogKind.ERROR
        )
        log.flush()
        locks.release_all(job.pk)
        publish(job.pk, [], end=True)
        audit.record(
            Actor.system("reaper"),
            AuditAction.JOB_INTERRUPTED,
            team=job.team,
            target=job,
            details={"worker": job.worker},
        )
        job_interrupted.send(sender=Job, job=job)
        reaped.append(job.pk)
    return reaped
