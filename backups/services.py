"""Every write to backup repositories (audited), and the starting of backup jobs."""

from __future__ import annotations

import secrets
from contextlib import suppress
from datetime import datetime
from typing import Any

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backups import schedule
from backups.models import (
    Backup,
    PanelPolicy,
    Policy,
    Repository,
    RepositoryKind,
    ScratchCopy,
    Upgrade,
)
from backups.operations import files
from backups.tasks import (
    back_up_accessory,
    back_up_panel_database,
    check_backup_repository,
    list_repository,
    promote_scratch_copy,
    remove_kept_data,
    remove_scratch_copy,
    restore_scratch_copy,
    restore_volumes,
    revert_upgrade,
    upgrade_accessory,
    verify_restore,
)
from deployments.accessory_kinds import KINDS
from deployments.models import Accessory
from deployments.services import DeployRefused
from panel import audit
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs import services as jobs
from panel.jobs.runner import JobFailed
from panel.models import AuditAction, Job, JobKind, Team
from panel.sensitive import Sensitive
from panel.validators import validate_image_reference
from servers import keys
from servers.models import Server


def create_repository(
    actor: Actor, team: Team, *, name: str, kind: str, secret_key: str = "", password: str = "",
    **fields: object,
) -> Repository:  # fmt: skip
    """A repository with a generated password, or the password of one that exists already
    (it is then opened as it is, never made again); both stored encrypted only."""
    with transaction.atomic():
        repository = Repository(team=team, name=name, kind=RepositoryKind(kind), **fields)
        repository.password = Sensitive(password or secrets.token_urlsafe(32))
        repository.secret_key = Sensitive(secret_key)
        if repository.kind == RepositoryKind.SFTP:
            holder = repository.server
            if holder is None or not holder.host_key:
                raise DeployRefused("An SFTP repository needs a server whose host key is trusted.")
            pair = keys.generate()
            repository.sftp_key, repository.sftp_public_key = pair.private_key, pair.public_key
        repository.full_clean(exclude=["password", "secret_key", "sftp_key"])
        repository.save()
        audit.record(
            actor,
            AuditAction.REPOSITORY_CREATE,
            team=team,
            target=repository,
            details={"kind": kind, "location": repository.location,
                     "password": "given" if password else "generated"},
        )  # fmt: skip
    return repository


def start_backup(actor: Actor, accessory: Accessory, repository: Repository) -> Job:
    if repository.team_id != accessory.team_id:
        raise DeployRefused("That repository is not in this accessory's team.")
    holder = locks.holder_of(repository.lock_name)
    if holder is not None:
        raise DeployRefused(f"{repository.name} is busy with job #{holder.pk}; try again later.")
    return jobs.enqueue(
        kind=JobKind.BACKUP_RUN,
        team=accessory.team,
        actor=actor,
        task=back_up_accessory,
        target=accessory,
        params={"repository_id": str(repository.pk), "repository": repository.name},
    )


def start_scratch_restore(actor: Actor, accessory: Accessory, backup: Backup) -> Job:
    """The backup restored into a new container beside the accessory; the live one untouched."""
    if backup.accessory_id != accessory.pk or not backup.succeeded:
        raise DeployRefused("Only a backup of this accessory that succeeded can be restored.")
    return jobs.enqueue(
        kind=JobKind.BACKUP_SCRATCH,
        team=accessory.team,
        actor=actor,
        task=restore_scratch_copy,
        target=accessory,
        params={"backup_id": backup.pk, "snapshot": backup.snapshot_id[:8]},
    )


def start_scratch_removal(actor: Actor, accessory: Accessory) -> Job:
    return jobs.enqueue(
        kind=JobKind.BACKUP_SCRATCH_REMOVE,
        team=accessory.team,
        actor=actor,
        task=remove_scratch_copy,
        target=accessory,
    )


def start_promotion(actor: Actor, accessory: Accessory, copy: ScratchCopy, typed: str) -> Job:
    """The scratch copy's data made the live data (a safety backup first); the accessory's
    name must be typed, exactly."""
    if typed.strip() != accessory.name:
        raise DeployRefused(f"Type {accessory.name} to replace its live data; nothing changed.")
    if copy.accessory_id != accessory.pk:
        raise DeployRefused("That scratch copy is not of this accessory.")
    _not_busy(accessory.lock_name, copy.backup.repository.lock_name)
    return jobs.enqueue(
        kind=JobKind.BACKUP_PROMOTE,
        team=accessory.team,
        actor=actor,
        task=promote_scratch_copy,
        target=accessory,
        params={"copy_id": copy.pk, "snapshot": copy.backup.snapshot_id[:8]},
    )


def start_files_restore(actor: Actor, accessory: Accessory, backup: Backup, typed: str) -> Job:
    """A files snapshot restored into the accessory's live volumes (a safety backup first);
    its name must be typed, exactly."""
    if typed.strip() != accessory.name:
        raise DeployRefused(f"Type {accessory.name} to replace its live files; nothing changed.")
    if backup.accessory_id != accessory.pk or not backup.succeeded or not backup.of_files:
        raise DeployRefused("Only a backup of this accessory's volumes that succeeded.")
    _not_busy(accessory.lock_name, backup.repository.lock_name)
    return jobs.enqueue(
        kind=JobKind.BACKUP_FILES_RESTORE,
        team=accessory.team,
        actor=actor,
        task=restore_volumes,
        target=accessory,
        params={"backup_id": backup.pk, "snapshot": backup.snapshot_id[:8]},
    )


def snapshot_files(backup: Backup) -> list[dict[str, Any]]:
    """A files snapshot's entries, as restic lists them (refused: DeployRefused)."""
    try:
        return files.listed(backup)
    except JobFailed as failure:
        raise DeployRefused(str(failure)) from failure


def snapshot_file(actor: Actor, backup: Backup, path: str) -> bytes:
    """One file of a files snapshot, its download audited (what was read, not its content)."""
    try:
        content = files.read(backup, path)
    except JobFailed as failure:
        raise DeployRefused(str(failure)) from failure
    audit.record(
        actor,
        AuditAction.BACKUP_FILE_DOWNLOADED,
        team=backup.team,
        target=backup.accessory,
        details={"snapshot": backup.snapshot_id[:8], "path": path, "bytes": len(content)},
    )
    return content


def start_verification(actor: Actor, accessory: Accessory, policy: Policy | None = None) -> Job:
    """Its latest backup (of the policy's repositories) restored into a throwaway copy and
    checked; the copy is removed."""
    params: dict[str, object] = {"policy_id": policy.pk} if policy else {}
    return jobs.enqueue(
        kind=JobKind.BACKUP_VERIFY,
        team=accessory.team,
        actor=actor,
        task=verify_restore,
        target=accessory,
        params=params,
    )


def start_check(actor: Actor, repository: Repository) -> Job:
    """restic's check of the repository (every byte read), its snapshots listed first."""
    return _repository_job(actor, repository, JobKind.BACKUP_CHECK, check_backup_repository)


def start_listing(actor: Actor, repository: Repository) -> Job:
    """Its snapshots listed again, whichever tool made them."""
    return _repository_job(actor, repository, JobKind.BACKUP_LIST, list_repository)


def _repository_job(actor: Actor, repository: Repository, kind: JobKind, task: Any) -> Job:
    """A job run on its folder's server or (S3) on the server of the last accessory backed up
    into it."""
    server = repository.server
    if server is None:
        last = Backup.objects.filter(repository=repository, accessory__isnull=False).first()
        server = last.accessory.server if last and last.accessory else None
    if server is None:
        raise DeployRefused(f"Nothing is backed up into {repository.name} yet: back up first.")
    _not_busy(repository.lock_name)
    return jobs.enqueue(
        kind=kind,
        team=repository.team,
        actor=actor,
        task=task,
        target=repository,
        params={"server_id": str(server.pk), "server": server.name},
    )


def start_upgrade(
    actor: Actor, accessory: Accessory, image: str, repository: Repository | None
) -> Job:
    """Another image for the accessory, after a backup into `repository` (kinds with a dump)."""
    try:
        validate_image_reference(image)
    except ValidationError as error:
        raise DeployRefused(" ".join(error.messages)) from error
    if image == accessory.image:
        raise DeployRefused(f"{accessory.name} runs {image} already.")
    dumps = bool(KINDS.get(accessory.kind, KINDS["custom"]).dump)
    if dumps and (repository is None or repository.team_id != accessory.team_id):
        raise DeployRefused("Choose a repository: the upgrade starts with a backup.")
    _not_busy(accessory.lock_name, *([repository.lock_name] if repository else []))
    params: dict[str, object] = {"image": image, "from": accessory.image}
    if repository is not None and dumps:
        params.update(repository_id=str(repository.pk), repository=repository.name)
    return jobs.enqueue(
        kind=JobKind.ACCESSORY_UPGRADE,
        team=accessory.team,
        actor=actor,
        task=upgrade_accessory,
        target=accessory,
        params=params,
    )


def start_upgrade_revert(actor: Actor, accessory: Accessory, done: Upgrade) -> Job:
    """The data kept from before a major upgrade, live again with the old image."""
    return _kept_job(actor, accessory, done, JobKind.ACCESSORY_UPGRADE_REVERT, revert_upgrade)


def start_kept_removal(actor: Actor, accessory: Accessory, done: Upgrade) -> Job:
    return _kept_job(actor, accessory, done, JobKind.ACCESSORY_KEPT_REMOVE, remove_kept_data)


def _kept_job(actor: Actor, accessory: Accessory, done: Upgrade, kind: JobKind, task: Any) -> Job:
    if done.accessory_id != accessory.pk or not done.kept_volume:
        raise DeployRefused("No data from before that upgrade is kept.")
    _not_busy(accessory.lock_name)
    return jobs.enqueue(
        kind=kind,
        team=accessory.team,
        actor=actor,
        task=task,
        target=accessory,
        params={"upgrade_id": done.pk, "volume": done.kept_volume},
    )


def _not_busy(*lock_names: str) -> None:
    for name in lock_names:
        holder = locks.holder_of(name)
        if holder is not None:
            raise DeployRefused(f"Job #{holder.pk} is running on it; try again later.")


def create_policy(
    actor: Actor,
    accessory: Accessory,
    *,
    schedule: str,
    repositories: list[Repository],
    keep: dict[str, int],
    verify_schedule: str = "",
    timeout_minutes: int = 360,
    check: tuple[str, str, str] = ("", "", ""),
) -> Policy:
    """`check`: a verification's own query (database, query, expected output), or none."""
    if any(repository.team_id != accessory.team_id for repository in repositories):
        raise DeployRefused("Those repositories are not all in this accessory's team.")
    with transaction.atomic():
        policy = Policy(
            team=accessory.team,
            accessory=accessory,
            schedule=schedule,
            verify_schedule=verify_schedule,
            timeout_minutes=timeout_minutes,
            check_database=check[0],
            check_query=check[1],
            check_expected=check[2],
            **keep,
        )
        policy.full_clean(exclude=["team", "accessory"])
        policy.save()
        policy.repositories.set(repositories)
        audit.record(
            actor,
            AuditAction.POLICY_CREATE,
            team=accessory.team,
            target=accessory,
            details={"schedule": schedule, "repositories": sorted(r.name for r in repositories),
                     "verify": verify_schedule, "timeout_minutes": timeout_minutes,
                     "check_query": check[1][:200], **keep},
        )  # fmt: skip
    return policy


def delete_policy(actor: Actor, policy: Policy) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            AuditAction.POLICY_DELETE,
            team=policy.team,
            target=policy.accessory,
            details={"schedule": policy.schedule},
        )
        policy.delete()


def set_panel_policy(
    actor: Actor, repository: Repository, server: Server, *, schedule: str, keep: dict[str, int]
) -> PanelPolicy:
    """Where and when the panel's own database is backed up (one policy; set again, replaced)."""
    if repository.kind == RepositoryKind.LOCAL and repository.server_id != server.pk:
        raise DeployRefused(f"{repository.name} is a folder on {repository.server}: go through it.")
    if server.team_id != repository.team_id:
        raise DeployRefused("The server and the repository are not of the same team.")
    with transaction.atomic():
        policy = PanelPolicy.objects.first() or PanelPolicy()
        fields = {"repository": repository, "server": server, "schedule": schedule, **keep}
        before = audit.values_of(policy, fields)
        policy.repository, policy.server, policy.schedule = repository, server, schedule
        for name, count in keep.items():
            setattr(policy, name, count)
        policy.full_clean(exclude=["repository", "server"])
        policy.save()
        audit.record(
            actor,
            AuditAction.PANEL_POLICY_SET,
            team=repository.team,
            target=repository,
            details={
                "server": server.name,
                "schedule": schedule,
                **keep,
                **audit.diff(before, fields),
            },
        )
    return policy


def start_panel_backup(actor: Actor) -> Job:
    policy = PanelPolicy.objects.select_related("repository__team").first()
    if policy is None:
        raise DeployRefused("Choose where the panel's database goes first.")
    _not_busy(policy.repository.lock_name)
    return jobs.enqueue(
        kind=JobKind.BACKUP_PANEL,
        team=policy.repository.team,
        actor=actor,
        task=back_up_panel_database,
        target=policy.repository,
        params={"repository": policy.repository.name},
    )


def start_due(now: datetime) -> list[Job]:
    """A backup job per repository of every policy that is due, and a verification for each
    whose verification is; each starts once per schedule tick, however many beats see it due."""
    started: list[Job] = []
    panel = schedule.panel_due(now)
    if panel is not None and PanelPolicy.objects.filter(
        pk=panel.pk, last_started_at=panel.last_started_at
    ).update(last_started_at=now):
        with suppress(DeployRefused):  # its repository busy: at the next tick
            started.append(start_panel_backup(Actor.system("schedule")))
    for policy in schedule.verification_due(now):
        claimed = Policy.objects.filter(
            pk=policy.pk, last_verify_started_at=policy.last_verify_started_at
        ).update(last_verify_started_at=now)
        if claimed:
            started.append(start_verification(Actor.system("schedule"), policy.accessory, policy))
    for policy in schedule.due(now):
        with transaction.atomic():
            claimed = Policy.objects.filter(
                pk=policy.pk, last_started_at=policy.last_started_at
            ).update(last_started_at=now)
            if not claimed:
                continue
            for repository in policy.repositories.all():
                started.append(
                    jobs.enqueue(
                        kind=JobKind.BACKUP_RUN,
                        team=policy.team,
                        actor=Actor.system("schedule"),
                        task=back_up_accessory,
                        target=policy.accessory,
                        params={
                            "repository_id": str(repository.pk),
                            "repository": repository.name,
                            "policy_id": policy.pk,
                        },
                    )
                )
    return started


@shared_task(name="backups.start_due")
def start_due_backups() -> int:
    """Run by beat every minute."""
    return len(start_due(timezone.now()))
