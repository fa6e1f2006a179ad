"""Accessories on the lab: PostgreSQL and Redis from the lab's images boot until their engine
answers, keep their data across a reboot, and one that never becomes ready leaves nothing
running; the generated password never reaches a command line or the job log."""

from __future__ import annotations

import asyncio

import pytest

from deployments import accessory_services as services
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.operations import accessories as operations
from panel.jobs.runner import run_job
from panel.models import AuditEvent, Job
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab.images import ON_HOSTS, load_into, service_image
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def engines_on_the_hosts(lab: Lab) -> None:
    """The lab's PostgreSQL and Redis images in every host's engine (the lab loads them when
    it starts; a lab started before they were needed gets them here)."""
    for host in lab.hosts:
        for service in ON_HOSTS:
            load_into(host.spec, service_image(service))


def _job(crew: Crew, accessory: Accessory, action: str) -> Job:
    return services.start_accessory_job(crew.actor(crew.admin), accessory, action)


def _in(accessory: Accessory, *argv: str) -> str:
    """A command inside the running accessory, with its variables (password) set."""
    names = sorted(operations.secrets_of(accessory)[0])
    ask = accessories.ask(accessory.name, names, list(argv))
    return asyncio.run(ssh.run(target_for(accessory.server), ask)).stdout.strip()


def _gone(accessory: Accessory) -> None:
    target = target_for(accessory.server)
    asyncio.run(ssh.run(target, accessories.remove(accessory.name), check=False))
    asyncio.run(
        ssh.run(
            target,
            ["docker", "volume", "rm", "-f", accessories.volume(accessory.name)],
            check=False,
        )
    )


def test_postgres_boots_until_ready_and_keeps_its_rows_across_a_reboot(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[0]
    db = services.create_accessory(
        crew.actor(crew.admin),
        crew.team,
        name="db",
        server=server,
        kind="postgres",
        image=service_image("postgres"),
    )
    _gone(db)
    try:
        boot = _job(crew, db, "boot")
        assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
        password = operations.secrets_of(db)[1]
        assert "db is ready" in log_of(boot) and password not in log_of(boot)
        _in(
            db,
            "psql",
            "-U",
            "postgres",
            "-c",
            "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42);",
        )
        reboot = _job(crew, db, "reboot")
        assert run_job(reboot.pk, operations.reboot) == "succeeded", log_of(reboot)
        assert _in(db, "psql", "-U", "postgres", "-tAc", "SELECT n FROM kept") == "42"
        # Over the network the password is required, and it is the generated one.
        check = [
            "sh",
            "-c",
            'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U postgres -tAc "SELECT 1"',
        ]
        assert _in(db, *check) == "1"
        assert (
            AuditEvent.objects.filter(action="accessory.booted", target_id=str(db.pk)).count() == 2
        )
    finally:
        _gone(db)


def test_redis_persists_with_a_password_from_its_config_file(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[1]
    cache = services.create_accessory(
        crew.actor(crew.admin),
        crew.team,
        name="cache",
        server=server,
        kind="redis",
        image=service_image("redis"),
    )
    _gone(cache)
    try:
        boot = _job(crew, cache, "boot")
        assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
        assert _in(cache, "redis-cli", "SET", "queued", "job-1") == "OK"
        assert _in(cache, "redis-cli", "CONFIG", "GET", "maxmemory-policy").endswith("noeviction")
        refused = asyncio.run(
            ssh.run(
                target_for(server),
                [
                    "docker",
                    "exec",
                    "--env",
                    "REDISCLI_AUTH=",
                    accessories.container("cache"),
                    "redis-cli",
                    "--no-auth-warning",
                    "GET",
                    "queued",
                ],
            )
        )
        assert "NOAUTH" in refused.stdout + refused.stderr, log_of(boot)
        reboot = _job(crew, cache, "reboot")
        assert run_job(reboot.pk, operations.reboot) == "succeeded", log_of(reboot)
        assert _in(cache, "redis-cli", "GET", "queued") == "job-1"
        processes = asyncio.run(ssh.run(target_for(server), ["ps", "-eo", "args"])).stdout
        assert operations.secrets_of(cache)[1] not in processes
    finally:
        _gone(cache)


def test_an_accessory_that_never_becomes_ready_leaves_nothing_running(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[2]
    broken = services.create_accessory(
        crew.actor(crew.admin),
        crew.team,
        name="broken",
        server=server,
        kind="postgres",
        image=service_image("redis"),
    )
    Accessory.objects.filter(pk=broken.pk).update(ready_timeout=3)
    broken.refresh_from_db()
    _gone(broken)
    try:
        boot = _job(crew, broken, "boot")
        assert run_job(boot.pk, operations.boot) == "failed"
        boot.refresh_from_db()
        assert "did not become ready" in boot.error and "last log lines" in log_of(boot)
        listed = asyncio.run(
            ssh.run(
                target_for(server),
                ["docker", "ps", "-aq", "--filter", f"name={accessories.container('broken')}"],
            )
        )
        assert listed.stdout.strip() == ""
    finally:
        _gone(broken)
