"""Starting, cancelling and reaping jobs; every write is audited."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from panel import audit
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.log import JobLog, publish
from panel.log_kinds import LogKind
from panel.models import AuditAction, Job, JobKind, JobStatus, Team


def enqueue(
    *,
    kind: JobKind,
    team: Team,
    actor: Actor,
    task: Any,
    target: models.Model | None = None,
    target_label: str = "",
    params: dict[str, Any] | None = None,
    why: dict[str, Any] | None = None,
) -> Job:
    """Create the job row, audit its start (with `why`, what started it, if given), and send
    its task once the transaction commits."""
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
            started_action(kind),
            team=team,
            target=target,
            target_label=job.target_label,
            details={"job": job.pk, **(params or {}), **(why or {})},
        )
        job_id = job.pk
        transaction.on_commit(lambda: task.delay(job_id))
    return job


def started_action(kind: JobKind) -> AuditAction:
    """The audit action of a job's start: `job.<kind>`, a member of the closed set."""
    return AuditAction(f"job.{kind}")


def cancel(job: Job, actor: Actor) -> str:
    """Cancel a queued job at once; ask a running one to stop at its next safe point."""
    with transaction.atomic():
        now = timezone.now()
        if Job.objects.filter(pk=job.pk, status__in=(JobStatus.QUEUED, JobStatus.WAITING)).update(
            status=JobStatus.CANCELLED, finished_at=now, error=f"Cancelled by {actor.label}."
        ):
            outcome = "cancelled"
        elif Job.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, cancel_requested_at__isnull=True
        ).update(cancel_requested_at=now):
            outcome = "cancel requested"
        else:
            return "not active"
        audit.record(
            actor, AuditAction.JOB_CANCEL, team=job.team, target=job, details={"outcome": outcome}
        )
    log = JobLog(job.pk)
    log.write(f"Cancel requested by {actor.label}.", LogKind.ERROR)
    log.flush()
    if outcome == "cancelled":
        locks.release_all(job.pk)
        publish(job.pk, [], end=True)
    return outcome
