"""What backup jobs record: each run's result, with its audit event."""

from __future__ import annotations

from django.db import transaction

from backups.models import Backup, Repository, ScratchCopy
from deployments.models import Accessory
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Job


def recorded(
    actor: Actor,
    repository: Repository,
    accessory: Accessory,
    job: Job,
    *,
    snapshot_id: str = "",
    bytes_read: int = 0,
    bytes_added: int = 0,
    seconds: float = 0.0,
    error: str = "",
) -> Backup:
    with transaction.atomic():
        backup = Backup.objects.create(
            team=repository.team,
            repository=repository,
            accessory=accessory,
            job=job,
            succeeded=not error,
            snapshot_id=snapshot_id,
            bytes_read=bytes_read,
            bytes_added=bytes_added,
            seconds=seconds,
            error=error,
        )
        audit.record(
            actor,
            AuditAction.BACKUP_DONE if not error else AuditAction.BACKUP_FAILED,
            team=repository.team,
            target=accessory,
            details={"repository": repository.name, "snapshot": snapshot_id[:8],
                     "bytes_added": bytes_added, "error": error[:200]},
        )  # fmt: skip
    return backup


def scratch_made(
    actor: Actor, accessory: Accessory, backup: Backup, job: Job, container: str, summary: str
) -> ScratchCopy:
    with transaction.atomic():
        ScratchCopy.objects.filter(accessory=accessory).delete()
        copy = ScratchCopy.objects.create(
            team=accessory.team, accessory=accessory, backup=backup, job=job,
            container=container, summary=summary,
        )  # fmt: skip
        audit.record(
            actor,
            AuditAction.SCRATCH_MADE,
            team=accessory.team,
            target=accessory,
            details={"snapshot": backup.snapshot_id[:8], "repository": backup.repository.name,
                     "container": container},
        )  # fmt: skip
    return copy


def scratch_removed(actor: Actor, accessory: Accessory) -> None:
    with transaction.atomic():
        ScratchCopy.objects.filter(accessory=accessory).delete()
        audit.record(actor, AuditAction.SCRATCH_REMOVED, team=accessory.team, target=accessory)
