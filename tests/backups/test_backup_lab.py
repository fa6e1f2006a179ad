"""Backups on the lab: a PostgreSQL accessory's dump streamed into restic, to a folder on its
server and to the lab's S3; the repository is made once and opened as it is after; a dump that
dies half-way is a failed run with no snapshot left; a wrong password says so; the host's
process list never shows a password or key."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from backups import commands
from backups import services as backup_services
from backups.models import Backup, Policy, Repository, ScratchCopy
from backups.operations import backup as backup_operations
from backups.operations.backup import Restic, back_up
from backups.operations.restore import remove_scratch, restore_to_scratch
from deployments import accessory_kinds
from deployments import accessory_services as services
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.operations import accessories as operations
from panel.jobs.runner import run_job
from panel.models import Job
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.backups.lab_backups import back_up_now, clean, local, sql
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.deployments.lab_accessories import added, gone
from tests.deployments.test_accessories_lab import engines_on_the_hosts  # noqa: F401
from tests.lab import services as lab_services
from tests.lab.images import service_image

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def _snapshots(db: Accessory, repository: Repository) -> list[dict[str, object]]:
    listed = Restic(repository, db.server).run(["snapshots", "--json"])
    assert listed.ok, listed.stderr
    return list(json.loads(listed.stdout))


def test_a_database_is_backed_up_to_a_folder_made_once_and_a_second_backup_adds_little(
    crew: Crew, database: Accessory
) -> None:
    # About 22 MB of dump: many of restic's chunks (1 MiB on average), so that dedupe shows.
    sql(database, "INSERT INTO rows SELECT generate_series(5001, 3000000);")
    repository = local(crew, database)
    outcome, log = back_up_now(crew, database, repository)
    assert outcome == "succeeded", log
    assert "a new repository is made" in log and repository.password.reveal() not in log
    outcome, log = back_up_now(crew, database, repository)
    assert outcome == "succeeded", log
    assert "repository is made" not in log and "existing" not in log  # known: not asked again
    first, second = Backup.objects.filter(repository=repository).order_by("created_at")
    assert first.succeeded and second.succeeded and first.snapshot_id != second.snapshot_id
    # Only the chunks around the dump's section headers (a new random key each time) are new.
    assert first.bytes_read > 20_000_000 and second.bytes_added < first.bytes_added * 0.6
    assert _snapshots(database, repository)[0]["tags"] == ["accessory:kept"]

    # The same folder added again with its password (as one made elsewhere is): used as it is.
    again = local(crew, database, name="again", password=repository.password.reveal())
    outcome, log = back_up_now(crew, database, again)
    assert outcome == "succeeded" and "an existing repository, used as it is" in log, log
    again.refresh_from_db()
    assert "holds 2 snapshot(s)" in log and len(again.snapshots) == 2
    assert again.size_bytes is not None and again.size_bytes > 1_000_000
    assert again.snapshots[0]["tags"] == ["accessory:kept"] and again.listed_at is not None
    assert len(_snapshots(database, repository)) == 3

    # The same folder with another password: restic's words, nothing backed up.
    wrong = local(crew, database, name="wrong", password="not-the-password-at-all-1234")
    outcome, log = back_up_now(crew, database, wrong)
    assert outcome == "failed" and "password does not open it" in log
    assert Backup.objects.filter(repository=wrong, succeeded=True).count() == 0


def test_a_dump_that_dies_half_way_is_a_failed_run_with_no_snapshot(
    crew: Crew, database: Accessory, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = local(crew, database)
    assert back_up_now(crew, database, repository)[0] == "succeeded"
    dying = accessory_kinds.POSTGRES.__class__(
        **{**accessory_kinds.POSTGRES.__dict__,
           "dump": ("sh", "-c", "head -c 300000 /dev/urandom; exit 1")}
    )  # fmt: skip
    monkeypatch.setitem(accessory_kinds.KINDS, "postgres", dying)
    outcome, log = back_up_now(crew, database, repository)
    assert outcome == "failed", log
    assert "sh exited 1" in log and "is forgotten" in log and "Nothing is recorded" in log
    assert len(_snapshots(database, repository)) == 1
    failed = Backup.objects.filter(repository=repository).order_by("-created_at").first()
    assert failed is not None and not failed.succeeded and failed.snapshot_id == ""


def test_a_backup_past_its_timeout_is_stopped_failed_and_leaves_nothing_running(
    crew: Crew, database: Accessory, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = local(crew, database)
    slow = dataclasses.replace(accessory_kinds.POSTGRES, dump=("sh", "-c", "sleep 60; exit 0"))
    monkeypatch.setitem(accessory_kinds.KINDS, "postgres", slow)
    monkeypatch.setattr(backup_operations, "BACKUP_TIMEOUT", 4.0)
    started = time.monotonic()
    outcome, log = back_up_now(crew, database, repository)
    assert outcome == "failed", log
    assert "ran past its timeout" in log and time.monotonic() - started < 40
    assert not Backup.objects.filter(repository=repository, succeeded=True).exists()
    target = target_for(database.server)
    restic_left = ["docker", "ps", "-q", "--filter", f"label={commands.LABEL}"]
    deadline = time.monotonic() + 15
    while asyncio.run(ssh.run(target, restic_left)).stdout.strip():
        assert time.monotonic() < deadline, "a restic container outlived its backup"
        time.sleep(0.5)
    sleeping = accessories.ask("kept", [], ["sh", "-c", "ps -eo args | grep -c '^sleep 60'"])
    assert asyncio.run(ssh.run(target, sleeping, check=False)).stdout.strip() == "0"
    monkeypatch.undo()
    assert back_up_now(crew, database, repository)[0] == "succeeded"  # no lock left behind


def test_a_database_goes_to_s3_and_no_secret_shows_in_the_process_list(
    crew: Crew, database: Accessory
) -> None:
    repository = backup_services.create_repository(
        crew.actor(crew.admin), crew.team, name="s3", kind="s3",
        endpoint=lab_services.S3_ON_BRIDGE, bucket="panel-backups", prefix=f"t/{uuid.uuid4().hex}",
        access_key="panel-test", secret_key="s3-secret-canary-5521", image=service_image("restic"),
    )  # fmt: skip
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            listed = asyncio.run(ssh.run(target_for(database.server), ["ps", "-eo", "args"]))
            seen.append(listed.stdout)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        outcome, log = back_up_now(crew, database, repository)
    finally:
        done.set()
        watcher.join()
    assert outcome == "succeeded", log
    assert len(seen) >= 3
    for secret in ("s3-secret-canary-5521", repository.password.reveal()):
        assert secret not in log and not any(secret in listed for listed in seen)
    assert len(_snapshots(database, repository)) == 1


def test_a_lock_left_by_a_killed_run_is_removed_and_said(crew: Crew, database: Accessory) -> None:
    repository = local(crew, database)
    assert back_up_now(crew, database, repository)[0] == "succeeded"
    restic = Restic(repository, database.server)
    argv = restic.argv(["-c", "sleep 120 | restic backup --stdin --stdin-filename stuck"])
    at = argv.index("--entrypoint")
    argv[at : at + 2] = ["--detach", "--name", "panel-test-stuck", "--entrypoint", "sh"]
    target = target_for(database.server)
    asyncio.run(ssh.run(target, ["docker", "rm", "-f", "panel-test-stuck"], check=False))
    asyncio.run(ssh.run(target, argv))
    for _ in range(50):
        if restic.locks():
            break
        time.sleep(0.2)
    assert restic.locks()
    asyncio.run(ssh.run(target, ["docker", "rm", "-f", "panel-test-stuck"]))  # killed
    # A backup shares the repository with the lock; forgetting and pruning what the policy
    # does not keep needs it alone: the lock is found to have no holder, and removed.
    policy = backup_services.create_policy(
        crew.actor(crew.admin), database, schedule="0 3 * * *", repositories=[repository],
        keep={"keep_last": 1, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
    )  # fmt: skip
    job = backup_services.start_backup(crew.actor(crew.admin), database, repository)
    Job.objects.filter(pk=job.pk).update(params={**job.params, "policy_id": policy.pk})
    assert run_job(job.pk, back_up) == "succeeded", log_of(job)
    assert "1 lock(s) left by a run that is gone removed" in log_of(job)
    assert not restic.locks()
    assert len(_snapshots(database, repository)) == 1


def test_a_backup_restored_to_a_scratch_copy_holds_the_rows_and_leaves_live_alone(
    crew: Crew, database: Accessory
) -> None:
    repository = local(crew, database)
    checksum = "SELECT md5(string_agg(n::text, ',' ORDER BY n)) FROM rows"
    before = sql(database, checksum)
    assert back_up_now(crew, database, repository)[0] == "succeeded"
    sql(database, "DROP TABLE rows")  # the live data changes after the backup
    backup = Backup.objects.get(repository=repository)
    job = backup_services.start_scratch_restore(crew.actor(crew.admin), database, backup)
    assert run_job(job.pk, restore_to_scratch) == "succeeded", log_of(job)
    copy = ScratchCopy.objects.get(accessory=database)
    assert "postgres.public.rows 5000" in copy.summary, copy.summary
    assert repository.password.reveal() not in log_of(job)
    in_copy = accessories.ask(
        "kept-scratch", ["POSTGRES_DB", "POSTGRES_PASSWORD", "POSTGRES_USER"],
        ["psql", "-U", copy.own_name, "-d", "postgres", "-tAc", checksum],
    )  # fmt: skip
    assert asyncio.run(ssh.run(target_for(database.server), in_copy)).stdout.strip() == before
    assert "does not exist" in _sql_error(database, "SELECT count(*) FROM rows")

    removal = backup_services.start_scratch_removal(crew.actor(crew.admin), database)
    assert run_job(removal.pk, remove_scratch) == "succeeded", log_of(removal)
    assert not ScratchCopy.objects.exists()
    listed = asyncio.run(
        ssh.run(
            target_for(database.server), ["docker", "ps", "-aq", "--filter", "name=kept-scratch"]
        )
    )
    assert listed.stdout.strip() == ""


def _sql_error(db: Accessory, statement: str) -> str:
    ask = accessories.ask("kept", sorted(operations.secrets_of(db)[0]),
                          ["psql", "-U", "postgres", "-tAc", statement])  # fmt: skip
    return asyncio.run(ssh.run(target_for(db.server), ask, check=False)).stderr


def test_a_mariadb_backup_restored_to_a_scratch_copy_counts_its_rows(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[1]
    db = added(crew, server, "maria", "mariadb")
    clean(server)
    names = sorted(operations.secrets_of(db)[0])
    sql = ["mariadb", "--user=root", "--host=127.0.0.1", "--skip-column-names", "-e"]
    try:
        boot = services.start_accessory_job(crew.actor(crew.admin), db, "boot")
        assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
        make = ("CREATE DATABASE shop; CREATE TABLE shop.orders (n int); "
                "INSERT INTO shop.orders VALUES (1), (2), (3)")  # fmt: skip
        asyncio.run(ssh.run(target_for(server), accessories.ask("maria", names, [*sql, make])))
        repository = local(crew, db)
        assert back_up_now(crew, db, repository)[0] == "succeeded"
        backup = Backup.objects.get(repository=repository)
        job = backup_services.start_scratch_restore(crew.actor(crew.admin), db, backup)
        assert run_job(job.pk, restore_to_scratch) == "succeeded", log_of(job)
        assert ScratchCopy.objects.get(accessory=db).summary == "shop.orders 3"
    finally:
        gone(db)
        asyncio.run(ssh.run(target_for(server), accessories.remove("maria-scratch"), check=False))
        clean(server)


def test_a_scheduled_run_keeps_only_what_its_policy_says(
    crew: Crew, database: Accessory, django_capture_on_commit_callbacks: Any
) -> None:
    repository = local(crew, database)
    policy = backup_services.create_policy(
        crew.actor(crew.admin), database, schedule="0 3 * * *", repositories=[repository],
        keep={"keep_last": 2, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
    )  # fmt: skip
    for day in (23, 24, 25):
        Policy.objects.filter(pk=policy.pk).update(last_started_at=None)
        with django_capture_on_commit_callbacks(execute=False):
            (job,) = backup_services.start_due(datetime(2027, 1, day, 3, 0, tzinfo=UTC))
        assert run_job(job.pk, back_up) == "succeeded", log_of(job)
    assert "keeps what the policy says (--keep-last=2)" in log_of(job)
    snapshots = _snapshots(database, repository)
    made = Backup.objects.filter(repository=repository).order_by("created_at")
    assert sorted(str(s["short_id"]) for s in snapshots) == sorted(b.snapshot_id for b in made[1:])


def test_an_unreachable_s3_is_a_failed_run_in_restics_words_and_never_a_success(
    crew: Crew, database: Accessory
) -> None:
    down = backup_services.create_repository(
        crew.actor(crew.admin), crew.team, name="down", kind="s3",
        endpoint=lab_services.S3_ON_BRIDGE.rsplit(":", 1)[0] + ":5199", bucket="panel-backups",
        access_key="panel-test", secret_key="s3-secret-down", image=service_image("restic"),
    )  # fmt: skip
    started = time.monotonic()
    outcome, log = back_up_now(crew, database, down)
    assert outcome == "failed", log
    assert "connection refused" in log and "s3-secret-down" not in log
    failed = Backup.objects.get(repository=down)
    assert not failed.succeeded and "connection refused" in failed.error
    assert time.monotonic() - started < 300
