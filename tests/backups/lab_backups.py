"""What the backup lab tests share: a PostgreSQL accessory with 5000 rows on a lab host, a
repository in a folder there (removed before and after), and backups made as a user would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from backups import services as backup_services
from backups.models import Repository
from backups.operations.backup import back_up
from deployments import accessory_services as services
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.operations import accessories as operations
from panel.jobs.runner import run_job
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.deployments.lab_accessories import added, gone
from tests.lab.images import service_image

FOLDER = "/tmp/panel-test-restic"


def clean(server: Server) -> None:
    """The repository's files are root's (restic runs in a container): removed by one."""
    argv = ["docker", "run", "--rm", "--volume", "/tmp:/scratch", "--entrypoint", "rm",
            service_image("restic"), "-rf", f"/scratch/{FOLDER.rsplit('/', 1)[1]}"]  # fmt: skip
    asyncio.run(ssh.run(target_for(server), argv))


@pytest.fixture
def database(crew: Crew, web_servers: list[Server]) -> Iterator[Accessory]:
    server = web_servers[0]
    db = added(crew, server, "kept", "postgres")
    clean(server)
    boot = services.start_accessory_job(crew.actor(crew.admin), db, "boot")
    assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
    sql(db, "CREATE TABLE rows (n int); INSERT INTO rows SELECT generate_series(1, 5000);")
    yield db
    gone(db)
    clean(server)


def sql(db: Accessory, statements: str) -> str:
    ask = accessories.ask("kept", sorted(operations.secrets_of(db)[0]),
                          ["psql", "-U", "postgres", "-tAc", statements])  # fmt: skip
    return asyncio.run(ssh.run(target_for(db.server), ask)).stdout.strip()


def local(crew: Crew, db: Accessory, name: str = "disk", password: str = "") -> Repository:
    return backup_services.create_repository(
        crew.actor(crew.admin), crew.team, name=name, kind="local", server=db.server,
        folder=FOLDER, image=service_image("restic"), password=password,
    )  # fmt: skip


def back_up_now(crew: Crew, db: Accessory, repository: Repository) -> tuple[str | None, str]:
    job = backup_services.start_backup(crew.actor(crew.admin), db, repository)
    outcome = run_job(job.pk, back_up)
    job.refresh_from_db()
    return outcome, log_of(job) + "\n" + job.error
