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
from tests.deployments.lab_accessories import added, gone
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


def test_postgres_boots_until_ready_and_keeps_its_rows_across_a_reboot(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[0]
    db = added(crew, server, "db", "postgres")
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
        gone(db)


def test_redis_persists_with_a_password_from_its_config_file(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[1]
    cache = added(crew, server, "cache", "redis")
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
        gone(cache)


def test_an_accessory_that_never_becomes_ready_leaves_nothing_running(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[2]
    broken = added(crew, server, "broken", "postgres", image=service_image("redis"))
    Accessory.objects.filter(pk=broken.pk).update(ready_timeout=3)
    broken.refresh_from_db()
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
        gone(broken)


def test_mariadb_boots_keeps_its_rows_and_a_failed_reboot_brings_the_old_container_back(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[1]
    db = added(crew, server, "maria", "mariadb")
    sql = ["mariadb", "--user=root", "--host=127.0.0.1", "--skip-column-names", "-e"]
    try:
        boot = _job(crew, db, "boot")
        assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
        _in(
            db,
            *sql,
            "CREATE DATABASE kept; CREATE TABLE kept.t (n int); INSERT INTO kept.t VALUES (7)",
        )
        reboot = _job(crew, db, "reboot")
        assert run_job(reboot.pk, operations.reboot) == "succeeded", log_of(reboot)
        assert _in(db, *sql, "SELECT n FROM kept.t") == "7"

        # An image that never answers: the reboot fails and the old container serves again.
        Accessory.objects.filter(pk=db.pk).update(image=service_image("redis"), ready_timeout=3)
        db.refresh_from_db()
        failed = _job(crew, db, "reboot")
        assert run_job(failed.pk, operations.reboot) == "failed"
        assert "The old container is back and ready" in log_of(failed)
        assert _in(db, *sql, "SELECT n FROM kept.t") == "7"
    finally:
        gone(db)


def test_any_image_is_ready_when_its_port_accepts_and_runs_commands_stops_and_starts(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[2]
    box = added(
        crew,
        server,
        "box",
        "custom",
        image=service_image("redis"),
        port=6379,
        command="redis-server --protected-mode no",
    )
    actor = crew.actor(crew.admin)
    services.set_file(actor, box, "/etc/box/motd", "hello from the panel\n", secret=False)
    services.set_file(actor, box, "/etc/box/token", "tok-s3cr3t-8812", secret=True)
    box.refresh_from_db()
    try:
        boot = _job(crew, box, "boot")
        assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
        assert "TCP port 6379 accepts" in log_of(boot)
        assert "tok-s3cr3t-8812" not in log_of(boot)
        assert _in(box, "cat", "/etc/box/motd", "/etc/box/token") == (
            "hello from the panel\ntok-s3cr3t-8812"
        )
        modes = asyncio.run(
            ssh.run(target_for(server), ["stat", "-c", "%a %n", ".panel/accessories/box/file-0",
                                         ".panel/accessories/box/file-1"])
        ).stdout.split("\n")  # fmt: skip
        assert modes[0].startswith("644 ") and modes[1].startswith("600 ")
        refused = asyncio.run(
            ssh.run(target_for(server), ["docker", "exec", accessories.container("box"), "sh",
                                         "-c", "echo x > /etc/box/motd"], check=False)
        )  # fmt: skip
        assert not refused.ok and "Read-only" in refused.stderr
        command = services.start_exec(crew.actor(crew.admin), box, "redis-cli DBSIZE")
        assert run_job(command.pk, operations.exec_in) == "succeeded", log_of(command)
        assert "[lab3] 0" in log_of(command).splitlines()
        assert AuditEvent.objects.filter(
            action="job.accessory.exec", details__command="redis-cli DBSIZE"
        ).exists()
        stop = _job(crew, box, "stop")
        assert run_job(stop.pk, operations.stop) == "succeeded", log_of(stop)
        state = accessories.inspect("box")
        assert '"exited"' in asyncio.run(ssh.run(target_for(server), state)).stdout
        start = _job(crew, box, "start")
        assert run_job(start.pk, operations.start) == "succeeded", log_of(start)
        assert '"running"' in asyncio.run(ssh.run(target_for(server), state)).stdout
    finally:
        gone(box)


def test_a_command_inside_shows_its_output_with_the_password_masked(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[0]
    db = added(crew, server, "pg", "postgres")
    try:
        boot = _job(crew, db, "boot")
        assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
        command = services.start_exec(
            crew.actor(crew.admin),
            db,
            'sh -c \'psql -U postgres -tAc "SELECT count(*) FROM pg_database"; '
            "echo $POSTGRES_PASSWORD'",
        )
        assert run_job(command.pk, operations.exec_in) == "succeeded", log_of(command)
        password = operations.secrets_of(db)[1]
        assert password not in log_of(command) and "3" in log_of(command)
    finally:
        gone(db)


def test_booting_twice_keeps_serving_and_old_data_of_another_accessory_is_refused(
    crew: Crew, web_servers: list[Server]
) -> None:
    server = web_servers[1]

    first = added(crew, server, "twice", "redis")
    try:
        for _ in range(2):
            boot = _job(crew, first, "boot")
            assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
        assert _in(first, "redis-cli", "SET", "k", "v") == "OK"
        removal = _job(crew, first, "remove")  # keeps the data
        assert run_job(removal.pk, operations.remove) == "succeeded", log_of(removal)

        second = services.create_accessory(
            crew.actor(crew.admin), crew.team, name="twice", server=server, kind="redis",
            image=service_image("redis"),
        )  # fmt: skip
        again = _job(crew, second, "boot")
        assert run_job(again.pk, operations.boot) == "failed"
        again.refresh_from_db()
        assert "holds data of an earlier accessory" in again.error
        listed = asyncio.run(
            ssh.run(target_for(server), ["docker", "ps", "-aq", "--filter", "name=twice"])
        )
        assert listed.stdout.strip() == ""
    finally:
        gone(first)
