"""Starting, cancelling and reaping jobs; every write is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import django.dispatch
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from panel import audit
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.log import JobLog, publish
from panel.models import Job, JobStatus, Team
from panel.models.jobs import LogKind

# Sent after the reaper marks a job interrupted, so apps can remove what it left behind.
job_interrupted = django.dispatch.Signal()


def enqueue(
    *,
    kind: str,
    team: Team,
    actor: Actor,
    task: Any,
    target: models.Model | None = None,
    target_label: str = "",
    params: dict[str, Any] | None = None,
    audit_action: str | None = None,
) -> Job:
    """Create the job row and send its task once the transaction commits."""
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            team=team,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_label=target_label or (str(target) if target is not None else ""),
            params=params or {},
            actor_user=actor.user,
            actor_label=actor.label,
        )
        audit.record(
            actor,
            audit_action or f"job.{kind}",
            team=team,
            target=target,
            target_label=job.target_label,
            details={"job": job.pk, **(params or {})},
        )
        job_id = job.pk
        transaction.on_commit(lambda: task.delay(job_id))
    return job


def cancel(job: Job, actor: Actor) -> str:
    """Cancel a queued job at once; ask a running one to stop at its next safe point."""
    with transaction.atomic():
        now = timezone.now()
        if Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, finished_at=now, error=f"Cancelled by {actor.label}."
        ):
            outcome = "cancelled"
        elif Job.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=now):
            outcome = "cancel requested"
        else:
            return "not active"
        audit.record(actor, "job.cancel", team=job.team, target=job, details={"outcome": outcome})
    log = JobLog(job.pk)
    log.write(f"Cancel requested by {actor.label}.", LogKind.ERROR)
    log.flush()
    if outcome == "cancelled":
        locks.release_all(job.pk)
        publish(job.pk, [], end=True)
    return outcome


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
            "job.interrupted",
            team=job.team,
            target=job,
            details={"worker": job.worker},
        )
        job_interrupted.send(sender=Job, job=job)
        reaped.append(job.pk)
    return reaped
