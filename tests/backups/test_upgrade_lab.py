"""Accessory upgrades on the lab, each after a backup: a new tag of the same PostgreSQL runs on
the same data; a tag that never becomes ready gives the old one back on the same data; a major
upgrade (15 from Debian 12 to 17 from Debian 13) goes by dump and restore, keeps the old data,
and reverts to it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from backups import services as backup_services
from backups.models import Repository, Upgrade, UpgradeStatus
from backups.operations.upgrade import remove_kept, revert, upgrade
from deployments.commands import accessories
from deployments.models import Accessory
from panel.jobs.runner import run_job
from servers import ssh
from servers.targets import target_for
from tests.backups.lab_backups import local, sql
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab.images import POSTGRES_NEXT, load_into, service_image
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
CHECKSUM = "SELECT md5(string_agg(n::text, ',' ORDER BY n)) FROM rows"
KEPT = accessories.volume("kept") + "-pg15"


@pytest.fixture
def upgradable(crew: Crew, database: Accessory, lab: Lab) -> Iterator[tuple[Accessory, Repository]]:
    load_into(lab.hosts[0].spec, POSTGRES_NEXT)
    yield database, local(crew, database)
    asyncio.run(ssh.run(target_for(database.server), ["docker", "volume", "rm", "-f", KEPT]))


def _upgrade(crew: Crew, db: Accessory, image: str, repository: Repository) -> tuple[str, str]:
    job = backup_services.start_upgrade(crew.actor(crew.admin), db, image, repository)
    outcome = run_job(job.pk, upgrade)
    job.refresh_from_db()
    return str(outcome), log_of(job) + "\n" + job.error


def _on_host(db: Accessory, argv: list[str], stdin: bytes | None = None) -> str:
    done = asyncio.run(ssh.run(target_for(db.server), argv, stdin=stdin, timeout=300))
    return done.stdout.strip()


def test_a_new_tag_runs_on_the_same_data_and_one_never_ready_gives_the_old_one_back(
    crew: Crew, upgradable: tuple[Accessory, Repository]
) -> None:
    db, repository = upgradable
    wanted = sql(db, CHECKSUM)
    _on_host(db, ["docker", "tag", service_image("postgres"), "panel-lab/postgres:15-next"])
    outcome, log = _upgrade(crew, db, "panel-lab/postgres:15-next", repository)
    assert outcome == "succeeded", log
    db.refresh_from_db()
    assert db.image == "panel-lab/postgres:15-next" and sql(db, CHECKSUM) == wanted
    assert "answers on every table the backup counted (1)" in log

    never_ready = f'FROM {service_image("postgres")}\nENTRYPOINT ["sleep", "3600"]\n'
    _on_host(db, ["docker", "build", "-q", "-t", "panel-lab/postgres:broken", "-"],
             never_ready.encode())  # fmt: skip
    Accessory.objects.filter(pk=db.pk).update(ready_timeout=8)
    db.refresh_from_db()
    outcome, log = _upgrade(crew, db, "panel-lab/postgres:broken", repository)
    assert outcome == "failed", log
    assert "The old container is back and ready" in log
    db.refresh_from_db()
    assert db.image == "panel-lab/postgres:15-next" and sql(db, CHECKSUM) == wanted
    failed = Upgrade.objects.first()
    assert failed is not None and failed.status == UpgradeStatus.FAILED


def test_a_postgres_major_upgrade_goes_by_dump_and_restore_and_reverts_to_the_kept_data(
    crew: Crew, upgradable: tuple[Accessory, Repository]
) -> None:
    db, repository = upgradable
    wanted = sql(db, CHECKSUM)
    outcome, log = _upgrade(crew, db, POSTGRES_NEXT, repository)
    assert outcome == "succeeded", log
    assert "PostgreSQL 15 → 17: by dump and restore" in log
    db.refresh_from_db()
    assert db.image == POSTGRES_NEXT
    assert sql(db, "SHOW server_version").startswith("17.") and sql(db, CHECKSUM) == wanted
    sql(db, "INSERT INTO rows VALUES (-17)")  # writes are accepted on the new engine
    done = Upgrade.objects.get(status=UpgradeStatus.UPGRADED)
    assert done.kept_volume == KEPT
    assert KEPT in _on_host(db, ["docker", "volume", "ls", "--format", "{{.Name}}"])

    job = backup_services.start_upgrade_revert(crew.actor(crew.owner), db, done)
    assert run_job(job.pk, revert) == "succeeded", log_of(job)
    db.refresh_from_db()
    assert db.image == service_image("postgres")
    assert sql(db, "SHOW server_version").startswith("15.") and sql(db, CHECKSUM) == wanted
    sql(db, "INSERT INTO rows VALUES (-15)")  # and on the old one again
    assert sql(db, "SELECT count(*) FROM rows") == "5001"
    assert KEPT not in _on_host(db, ["docker", "volume", "ls", "--format", "{{.Name}}"])

    outcome, log = _upgrade(crew, db, POSTGRES_NEXT, repository)
    assert outcome == "succeeded", log
    done = Upgrade.objects.get(status=UpgradeStatus.UPGRADED)
    job = backup_services.start_kept_removal(crew.actor(crew.owner), db, done)
    assert run_job(job.pk, remove_kept) == "succeeded", log_of(job)
    assert KEPT not in _on_host(db, ["docker", "volume", "ls", "--format", "{{.Name}}"])
