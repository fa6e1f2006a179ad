"""Check, bootstrap and exec jobs end to end on the lab's real hosts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from panel.jobs.runner import run_job
from panel.models import AuditEvent, Job
from servers import ssh
from servers.models import HostKeyState, Server
from servers.operations.bootstrap import bootstrap
from servers.operations.check import check
from servers.operations.exec import exec_on_servers
from tests.conftest import Crew
from tests.lab import hosts as lab_hosts
from tests.lab.lab import Lab
from tests.servers.payloads import CANARY

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def _job(crew: Crew, kind: str, server: Server | None = None, **params: object) -> Job:
    return Job.objects.create(
        kind=kind,
        team=crew.team,
        actor_label="adam",
        params=params,
        target_type="servers.server" if server else "",
        target_id=str(server.pk) if server else "",
    )


def _log(job: Job) -> str:
    return "\n".join(job.log_lines.values_list("text", flat=True))


def test_check_records_the_hosts_facts(crew: Crew, lab_servers: list[Server]) -> None:
    server = lab_servers[0]
    job = _job(crew, "server.check", server)
    assert run_job(job.pk, check) == "succeeded", _log(job)
    server.refresh_from_db()
    assert server.reachable is True and server.docker_version[0].isdigit()
    assert server.facts["user"] == server.user and int(server.facts["cpus"]) >= 1
    assert server.facts["can_docker"] is True and abs(server.facts["time_offset"]) < 5
    assert "sh -c" in _log(job) and "exit 0" in _log(job)
    # The lab's hosts run Debian's docker.io 20.10, whose client has BuildKit built in.
    assert server.facts["buildkit"].startswith("built into docker 20.10")
    assert "BuildKit (build secrets): built into docker 20.10" in _log(job)


def test_bootstrap_starts_the_proxy_and_a_second_run_changes_nothing(
    crew: Crew, lab_servers: list[Server]
) -> None:
    server = lab_servers[1]
    target_id = _proxy_container_id(server)
    first = _job(crew, "server.bootstrap", server)
    assert run_job(first.pk, bootstrap) == "succeeded", _log(first)
    proxy_id = _proxy_container_id(server)
    assert proxy_id and (target_id in ("", proxy_id) or "takes over" in _log(first))
    assert "admin API answers" in _log(first)

    second = _job(crew, "server.bootstrap", server)
    assert run_job(second.pk, bootstrap) == "succeeded", _log(second)
    assert _proxy_container_id(server) == proxy_id
    assert "is running with this image and config" in _log(second)
    assert "Network `panel` exists." in _log(second)
    server.refresh_from_db()
    assert server.proxy_running is True

    from servers.targets import target_for

    target = target_for(server)
    ports = asyncio.run(ssh.run(target, ["docker", "port", "panel-proxy"])).stdout
    assert "2019/tcp -> 127.0.0.1:2019" in ports and "80/tcp -> 0.0.0.0:80" in ports


def _proxy_container_id(server: Server) -> str:
    from servers.targets import target_for

    result = asyncio.run(
        ssh.run(
            target_for(server), ["docker", "inspect", "-f", "{{.Id}}", "panel-proxy"], check=False
        )
    )
    return result.stdout.strip() if result.ok else ""


def test_exec_streams_each_servers_output(crew: Crew, lab_servers: list[Server]) -> None:
    command = "echo hello from $(id -un); echo to-stderr >&2"
    job = _job(crew, "server.exec", servers=[s.pk for s in lab_servers], command=command)
    assert run_job(job.pk, exec_on_servers) == "succeeded", _log(job)
    log = _log(job)
    for server in lab_servers:
        assert f"[{server.name}] hello from {server.user}" in log
        assert f"[{server.name}] to-stderr" in log


def test_exec_fails_the_job_when_a_server_fails(crew: Crew, lab_servers: list[Server]) -> None:
    job = _job(crew, "server.exec", servers=[lab_servers[0].pk], command="exit 4")
    assert run_job(job.pk, exec_on_servers) == "failed"
    job.refresh_from_db()
    assert "exit 4" in _log(job) and lab_servers[0].name in job.error


def test_a_swapped_host_key_runs_zero_commands_and_is_recorded(
    crew: Crew, lab: Lab, lab_servers: list[Server]
) -> None:
    host, server = lab.hosts[2], lab_servers[2]
    first = _job(crew, "server.check", server)
    assert run_job(first.pk, check) == "succeeded"
    asyncio.run(ssh.close_all())
    with lab_hosts.swapped_host_key(host.spec):
        second = _job(crew, "server.check", server)
        assert run_job(second.pk, check) == "failed"
        canary = _job(crew, "server.exec", servers=[server.pk], command=f"touch {CANARY}-swap")
        assert run_job(canary.pk, exec_on_servers) == "failed"
    second.refresh_from_db()
    server.refresh_from_db()
    assert "host key changed" in second.error and "no command was run" in second.error
    assert server.host_key_state == HostKeyState.CHANGED
    assert server.offered_host_key_fingerprint and (
        server.offered_host_key_fingerprint != server.host_key_fingerprint
    )
    assert (
        AuditEvent.objects.filter(
            action="server.host_key_changed", target_id=str(server.pk)
        ).count()
        == 1
    )
    assert not Path(f"{CANARY}-swap").exists()
    assert "sh -c" not in _log(second)
