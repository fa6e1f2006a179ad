"""What backup jobs record: each run's result, with its audit event."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from backups.models import (
    Backup,
    Repository,
    ScratchCopy,
    Upgrade,
    UpgradeStatus,
    Verification,
)
from deployments.models import Accessory
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Job


def recorded(
    actor: Actor,
    repository: Repository,
    accessory: Accessory | None,
    job: Job,
    *,
    snapshot_id: str = "",
    bytes_read: int = 0,
    bytes_added: int = 0,
    seconds: float = 0.0,
    rows: str = "",
    error: str = "",
) -> Backup:
    with transaction.atomic():
        backup = Backup.objects.create(
            team=repository.team,
            repository=repository,
            accessory=accessory,
            of_panel=accessory is None,
            job=job,
            succeeded=not error,
            snapshot_id=snapshot_id,
            bytes_read=bytes_read,
            bytes_added=bytes_added,
            seconds=seconds,
            rows=rows,
            error=error,
        )
        audit.record(
            actor,
            AuditAction.BACKUP_DONE if not error else AuditAction.BACKUP_FAILED,
            team=repository.team,
            target=accessory if accessory is not None else repository,
            details={"repository": repository.name, "snapshot": snapshot_id[:8],
                     "bytes_added": bytes_added, "error": error[:200]},
        )  # fmt: skip
    return backup


def scratch_made(
    actor: Actor, accessory: Accessory, backup: Backup, job: Job, container: str, own_name: str,
    summary: str,
) -> ScratchCopy:  # fmt: skip
    with transaction.atomic():
        ScratchCopy.objects.filter(accessory=accessory).delete()
        copy = ScratchCopy.objects.create(
            team=accessory.team, accessory=accessory, backup=backup, job=job,
            container=container, own_name=own_name, summary=summary,
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


def verified(
    actor: Actor, accessory: Accessory, backup: Backup | None, job: Job, *, passed: bool,
    detail: str,
) -> Verification:  # fmt: skip
    with transaction.atomic():
        verification = Verification.objects.create(
            team=accessory.team, accessory=accessory, backup=backup, job=job, passed=passed,
            detail=detail,
        )  # fmt: skip
        audit.record(
            actor,
            AuditAction.RESTORE_VERIFIED if passed else AuditAction.RESTORE_VERIFY_FAILED,
            team=accessory.team,
            target=accessory,
            details={"snapshot": backup.snapshot_id[:8] if backup else "",
                     "detail": detail[:200]},
        )  # fmt: skip
    return verification


def checked(actor: Actor, repository: Repository, job: Job, *, error: str = "") -> None:
    with transaction.atomic():
        Repository.objects.filter(pk=repository.pk).update(
            checked_at=timezone.now(), check_error=error
        )
        audit.record(
            actor,
            AuditAction.REPOSITORY_CHECKED,
            team=repository.team,
            target=repository,
            details={"passed": not error, "error": error[:200]},
        )


def live_restored(
    actor: Actor, accessory: Accessory, backup: Backup, safety: Backup, *, what: str
) -> None:
    """A backup's `what` ("database" from a scratch copy, or "volumes") made the live data."""
    with transaction.atomic():
        if what == "database":
            ScratchCopy.objects.filter(accessory=accessory).delete()
        _restore_event(actor, AuditAction.LIVE_RESTORED, accessory, backup, safety, what=what)


def live_restore_failed(
    actor: Actor, accessory: Accessory, backup: Backup, safety: Backup, error: str, *, what: str
) -> None:
    _restore_event(actor, AuditAction.LIVE_RESTORE_FAILED, accessory, backup, safety, what=what,
                   error=error[:200])  # fmt: skip


def _restore_event(
    actor: Actor, action: AuditAction, accessory: Accessory, backup: Backup, safety: Backup,
    **details: str,
) -> None:  # fmt: skip
    audit.record(
        actor,
        action,
        team=accessory.team,
        target=accessory,
        details={"snapshot": backup.snapshot_id[:8], "safety_snapshot": safety.snapshot_id[:8],
                 **details},
    )  # fmt: skip


def opened(repository: Repository) -> None:
    """The panel has opened (or made) it: later jobs use it without asking first."""
    repository.opened_at = timezone.now()
    Repository.objects.filter(pk=repository.pk).update(opened_at=repository.opened_at)


def upgraded(
    actor: Actor, accessory: Accessory, job: Job, old: str, image: str, kept: str
) -> Upgrade:
    with transaction.atomic():
        Accessory.objects.filter(pk=accessory.pk).update(image=image, booted_at=timezone.now())
        done = Upgrade.objects.create(
            team=accessory.team, accessory=accessory, job=job, from_image=old, to_image=image,
            status=UpgradeStatus.UPGRADED, kept_volume=kept,
        )  # fmt: skip
        audit.record(
            actor,
            AuditAction.ACCESSORY_UPGRADED,
            team=accessory.team,
            target=accessory,
            details={"from": old, "to": image, "kept": kept},
        )
    return done


def upgrade_failed(
    actor: Actor, accessory: Accessory, job: Job, old: str, image: str, error: str
) -> None:
    with transaction.atomic():
        Upgrade.objects.create(
            team=accessory.team, accessory=accessory, job=job, from_image=old, to_image=image,
            status=UpgradeStatus.FAILED, detail=error[:2000],
        )  # fmt: skip
        audit.record(
            actor,
            AuditAction.ACCESSORY_UPGRADE_FAILED,
            team=accessory.team,
            target=accessory,
            details={"from": old, "to": image, "error": error[:200]},
        )


def upgrade_reverted(actor: Actor, accessory: Accessory, job: Job, done: Upgrade) -> None:
    with transaction.atomic():
        Accessory.objects.filter(pk=accessory.pk).update(
            image=done.from_image, booted_at=timezone.now()
        )
        Upgrade.objects.filter(pk=done.pk).update(status=UpgradeStatus.REVERTED, kept_volume="")
        audit.record(
            actor,
            AuditAction.ACCESSORY_UPGRADE_REVERTED,
            team=accessory.team,
            target=accessory,
            details={"from": done.to_image, "to": done.from_image},
        )


def kept_removed(actor: Actor, accessory: Accessory, job: Job, done: Upgrade) -> None:
    with transaction.atomic():
        Upgrade.objects.filter(pk=done.pk).update(kept_volume="")
        audit.record(
            actor,
            AuditAction.ACCESSORY_KEPT_DATA_REMOVED,
            team=accessory.team,
            target=accessory,
            details={"volume": done.kept_volume},
        )


def snapshots_listed(
    repository: Repository, snapshots: list[dict[str, object]], size: int | None
) -> None:
    repository.snapshots, repository.listed_at = snapshots, timezone.now()
    repository.size_bytes = size
    Repository.objects.filter(pk=repository.pk).update(
        snapshots=snapshots, listed_at=repository.listed_at, size_bytes=size
    )
