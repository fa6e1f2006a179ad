"""The lab itself: real sshd and Docker per host, isolated hosts, a registry with auth."""

from __future__ import annotations

import asyncio
import shlex
import uuid
from typing import Any

import asyncssh
import pytest

from tests.lab.lab import Lab, LabHost

pytestmark = pytest.mark.lab


def connect(host: LabHost) -> Any:
    """A plain asyncssh connection to a lab host, its host key pinned."""
    known = asyncssh.import_known_hosts(f"{host.address} {host.host_public_key}\n")
    return asyncssh.connect(
        host.address,
        port=host.port,
        username=host.user,
        known_hosts=known,
        client_keys=[str(host.client_key)],
        config=None,
        agent_path=None,
        connect_timeout=10,
    )


async def _run(
    host: LabHost, command: str, stdin: str | None = None
) -> asyncssh.SSHCompletedProcess:
    async with connect(host) as conn:
        result: asyncssh.SSHCompletedProcess = await conn.run(
            command, input=stdin, check=False, timeout=120
        )
    return result


def docker_login(host: LabHost, lab: Lab, env: str) -> asyncssh.SSHCompletedProcess:
    user = shlex.quote(lab.registry_user)
    command = f"{env} docker login -u {user} --password-stdin {lab.registry}"
    return run(host, command, stdin=lab.registry_password)


def run(host: LabHost, command: str, stdin: str | None = None) -> asyncssh.SSHCompletedProcess:
    return asyncio.run(_run(host, command, stdin))


def test_each_host_answers_over_ssh_with_its_pinned_key_and_runs_docker(lab: Lab) -> None:
    assert len(lab.hosts) >= 3
    for host in lab.hosts:
        result = run(host, "id -un; docker version --format '{{.Server.Version}}'")
        assert result.exit_status == 0, result.stderr
        user, version = str(result.stdout).split()
        assert user == host.user and version[0].isdigit()


def test_a_wrong_host_key_is_refused(lab: Lab) -> None:
    first, second = lab.hosts[0], lab.hosts[1]
    impostor = LabHost(**{**first.__dict__, "host_public_key": second.host_public_key})
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        run(impostor, "true")


def test_hosts_have_their_own_docker_engines(lab: Lab) -> None:
    first, second = lab.hosts[0], lab.hosts[1]
    name = f"lab-iso-{uuid.uuid4().hex[:8]}"
    started = run(first, f"docker run -d --name {name} panel-lab/app:v1")
    assert started.exit_status == 0, started.stderr
    try:
        assert run(first, f"docker inspect {name}").exit_status == 0
        assert run(second, f"docker inspect {name}").exit_status != 0
        # The same name is free on the other host.
        assert run(second, f"docker run -d --name {name} panel-lab/app:v2").exit_status == 0
        ids = {run(h, f"docker inspect -f '{{{{.Id}}}}' {name}").stdout for h in (first, second)}
        assert len(ids) == 2
    finally:
        for host in (first, second):
            run(host, f"docker rm -f {name}")


def test_a_host_user_cannot_reach_another_hosts_engine(lab: Lab) -> None:
    first, second = lab.hosts[0], lab.hosts[1]
    result = run(first, f"DOCKER_HOST={shlex.quote(second.docker_host)} docker ps")
    assert result.exit_status != 0


async def _http_get_through_host(host: LabHost, address: str, port: int, path: str) -> bytes:
    async with connect(host) as conn:
        for _ in range(50):
            try:
                reader, writer = await conn.open_connection(address, port)
            except asyncssh.ChannelOpenError:
                await asyncio.sleep(0.1)
                continue
            writer.write(f"GET {path} HTTP/1.0\r\nHost: lab\r\n\r\n".encode())
            response: bytes = await reader.read()
            writer.close()
            if response:
                return response
            await asyncio.sleep(0.1)
    raise AssertionError(f"{address}:{port} never answered")


def test_a_container_answers_at_its_address_inside_its_host(lab: Lab) -> None:
    host = lab.hosts[0]
    name = f"lab-web-{uuid.uuid4().hex[:8]}"
    assert run(host, f"docker run -d --name {name} panel-lab/app:v1").exit_status == 0
    try:
        inspect = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
        address = str(run(host, f"docker inspect -f '{inspect}' {name}").stdout).strip()
        response = asyncio.run(_http_get_through_host(host, address, 80, "/up"))
        assert response.startswith(b"HTTP/1.") and b" 200 " in response.split(b"\r\n")[0]
    finally:
        run(host, f"docker rm -f {name}")


def test_the_registry_accepts_a_push_with_auth_and_refuses_without(lab: Lab) -> None:
    host = lab.hosts[1]
    ref = f"{lab.registry}/lab/pushed:{uuid.uuid4().hex[:8]}"
    config = f"/tmp/lab-docker-config-{uuid.uuid4().hex[:8]}"
    env = f"DOCKER_CONFIG={config}"
    try:
        assert run(host, f"{env} docker tag panel-lab/app:v1 {ref}").exit_status == 0
        refused = run(host, f"{env} docker push {ref}")
        assert refused.exit_status != 0
        assert "no basic auth credentials" in str(refused.stderr) + str(refused.stdout)
        login = docker_login(host, lab, env)
        assert login.exit_status == 0, login.stderr
        pushed = run(host, f"{env} docker push {ref}")
        assert pushed.exit_status == 0, pushed.stderr
    finally:
        run(host, f"docker rmi {ref}; rm -rf {config}")


def test_the_lab_registry_serves_the_app_images_to_every_host(lab: Lab) -> None:
    host = lab.hosts[2]
    config = f"/tmp/lab-docker-config-{uuid.uuid4().hex[:8]}"
    env = f"DOCKER_CONFIG={config}"
    login = docker_login(host, lab, env)
    assert login.exit_status == 0, login.stderr
    pulled = run(host, f"{env} docker pull -q {lab.app_images['v2']}; rm -rf {config}")
    assert pulled.exit_status == 0, pulled.stderr
