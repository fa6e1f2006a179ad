"""Restores that cannot make things worse, on the lab: a scratch copy promoted to live after a
safety backup; a promotion that fails half-way leaves the live data as it was; a verification
restores the latest backup into a throwaway copy and compares its rows; a corrupted pack fails
both the verification and restic's check."""

from __future__ import annotations

import asyncio

import pytest

from backups import commands
from backups import services as backup_services
from backups.models import Backup, Policy, Repository, ScratchCopy, Verification
from backups.operations.promote import promote
from backups.operations.restore import restore_to_scratch
from backups.operations.verify import check_repository, verify
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.services import DeployRefused
from panel.jobs.runner import run_job
from panel.models import AuditAction, AuditEvent
from servers import ssh
from servers.targets import target_for
from tests.backups.lab_backups import FOLDER, back_up_now, local, sql
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab.images import service_image

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
CHECKSUM = "SELECT md5(string_agg(n::text, ',' ORDER BY n)) FROM rows"


def _latest(repository: Repository) -> Backup:
    backup = Backup.objects.filter(repository=repository, succeeded=True).first()
    assert backup is not None
    return backup


def _scratch(crew: Crew, db: Accessory, backup: Backup) -> ScratchCopy:
    job = backup_services.start_scratch_restore(crew.actor(crew.admin), db, backup)
    assert run_job(job.pk, restore_to_scratch) == "succeeded", log_of(job)
    return ScratchCopy.objects.get(accessory=db)


def _promote(crew: Crew, db: Accessory, copy: ScratchCopy) -> tuple[str | None, str]:
    job = backup_services.start_promotion(crew.actor(crew.owner), db, copy, db.name)
    outcome = run_job(job.pk, promote)
    job.refresh_from_db()
    return outcome, log_of(job) + "\n" + job.error


def _listed(db: Accessory, argv: list[str]) -> str:
    return asyncio.run(ssh.run(target_for(db.server), argv)).stdout.strip()


def test_a_scratch_copy_promoted_becomes_the_live_data_after_a_safety_backup(
    crew: Crew, database: Accessory
) -> None:
    repository = local(crew, database)
    wanted = sql(database, CHECKSUM)
    assert back_up_now(crew, database, repository)[0] == "succeeded"
    sql(database, "DELETE FROM rows WHERE n > 100")  # the mistake a restore is for
    copy = _scratch(crew, database, _latest(repository))
    with pytest.raises(DeployRefused, match="Type kept"):
        backup_services.start_promotion(crew.actor(crew.owner), database, copy, "kep")

    outcome, log = _promote(crew, database, copy)
    assert outcome == "succeeded", log
    assert sql(database, CHECKSUM) == wanted
    assert "Safety backup: snapshot" in log and repository.password.reveal() not in log
    safety = _latest(repository)
    assert "postgres.public.rows 100" in safety.rows  # what was live, kept
    assert sql(database, "SELECT count(*) FROM pg_database WHERE datname LIKE 'panel%'") == "0"
    assert not ScratchCopy.objects.exists()
    names = _listed(database, ["docker", "ps", "-a", "--format", "{{.Names}}"])
    assert "kept-scratch" not in names and "previous" not in names
    volumes = _listed(database, ["docker", "volume", "ls", "--format", "{{.Name}}"])
    assert "before" not in volumes and "kept-scratch" not in volumes
    assert AuditEvent.objects.filter(action=AuditAction.LIVE_RESTORED).count() == 1

    # The promoted data backs up and restores again (the copy's own superuser is a role now).
    assert back_up_now(crew, database, repository)[0] == "succeeded"
    again = _scratch(crew, database, _latest(repository))
    assert "postgres.public.rows 5000" in again.summary, again.summary


def test_a_promotion_that_fails_half_way_leaves_the_live_data_as_it_was(
    crew: Crew, database: Accessory, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = local(crew, database)
    assert back_up_now(crew, database, repository)[0] == "succeeded"
    copy = _scratch(crew, database, _latest(repository))
    sql(database, "DELETE FROM rows WHERE n > 100; INSERT INTO rows VALUES (-1)")
    live = sql(database, CHECKSUM)
    copying = commands.copy_volume

    def dies_half_way(image: str, source: str, destination: str) -> list[str]:
        argv = copying(image, source, destination)
        if "scratch" in source:  # the live files deleted, then the disk "fills up"
            argv[-1] = "find /to -mindepth 1 -delete; exit 1"
        return argv

    monkeypatch.setattr(commands, "copy_volume", dies_half_way)
    outcome, log = _promote(crew, database, copy)
    assert outcome == "failed", log
    assert "Copying kept-scratch's data failed" in log and "The live data is back" in log
    assert sql(database, CHECKSUM) == live
    assert AuditEvent.objects.filter(action=AuditAction.LIVE_RESTORE_FAILED).count() == 1
    assert ScratchCopy.objects.filter(pk=copy.pk).exists()  # still there to look at, or retry
    volumes = _listed(database, ["docker", "volume", "ls", "--format", "{{.Name}}"])
    assert accessories.volume("kept") + "-before" not in volumes


def test_a_verification_compares_rows_and_a_corrupted_pack_fails_it_and_the_check(
    crew: Crew, database: Accessory
) -> None:
    repository = local(crew, database)
    assert back_up_now(crew, database, repository)[0] == "succeeded"
    assert "postgres.public.rows 5000" in _latest(repository).rows
    job = backup_services.start_verification(crew.actor(crew.admin), database)
    assert run_job(job.pk, verify) == "succeeded", log_of(job)
    verification = Verification.objects.get()
    assert verification.passed and "rows as counted when it was made" in verification.detail
    assert "kept-verify" not in _listed(database, ["docker", "ps", "-a", "--format", "{{.Names}}"])

    # The policy's own check, asked of the restored copy.
    policy = backup_services.create_policy(
        crew.actor(crew.admin), database, schedule="0 3 * * *", repositories=[repository],
        keep={"keep_last": 7, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
        check=("postgres", "SELECT count(*) FROM rows WHERE n > 4000", "1000"),
    )  # fmt: skip
    job = backup_services.start_verification(crew.actor(crew.admin), database)
    assert run_job(job.pk, verify) == "succeeded", log_of(job)
    assert "The check query printed what it must ('1000')" in log_of(job)
    Policy.objects.filter(pk=policy.pk).update(check_expected="999")
    job = backup_services.start_verification(crew.actor(crew.admin), database, policy)
    assert run_job(job.pk, verify) == "failed", log_of(job)
    assert "printed '1000', not '999'" in log_of(job)

    # Every data pack gets 16 bytes of garbage in the middle of its blobs.
    corrupt = (
        'for f in $(find /r/data -type f); do printf XXXXXXXXXXXXXXXX | dd of="$f" bs=1 '
        "seek=64 conv=notrunc 2>/dev/null; done"
    )
    asyncio.run(ssh.run(target_for(database.server), [
        "docker", "run", "--rm", "--volume", f"{FOLDER}:/r", "--entrypoint", "sh",
        service_image("restic"), "-c", corrupt,
    ]))  # fmt: skip
    job = backup_services.start_verification(crew.actor(crew.admin), database)
    assert run_job(job.pk, verify) == "failed", log_of(job)
    failed = Verification.objects.first()
    assert failed is not None and not failed.passed, failed
    assert "damaged" in failed.detail and "error" in failed.detail.lower(), failed.detail
    assert "kept-verify" not in _listed(database, ["docker", "ps", "-a", "--format", "{{.Names}}"])

    check = backup_services.start_check(crew.actor(crew.admin), repository)
    assert run_job(check.pk, check_repository) == "failed", log_of(check)
    repository.refresh_from_db()
    assert repository.checked_at is not None and "damaged" in repository.check_error
