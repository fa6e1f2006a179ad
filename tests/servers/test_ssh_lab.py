"""The real executor against the lab's real sshd and Docker."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from servers import ssh, ssh_pool
from servers.keys import public_key_line
from tests.lab.lab import Lab
from tests.servers.lab_targets import target_for

pytestmark = pytest.mark.lab


def test_many_concurrent_commands_share_one_connection(lab: Lab) -> None:
    target = target_for(lab.hosts[0])

    async def scenario() -> list[str]:
        results = await asyncio.gather(*(ssh.run(target, ["echo", f"n{i}"]) for i in range(60)))
        return [r.stdout.strip() for r in results]

    # Far more than sshd's MaxSessions (10): the executor queues them on one connection.
    for _ in range(3):
        assert asyncio.run(scenario()) == [f"n{i}" for i in range(60)]
    assert len(ssh_pool.pool().connections) >= 1
    assert sum(1 for k in ssh_pool.pool().connections if k == target.pool_key()) == 1


def test_each_argument_arrives_as_one_argument(lab: Lab) -> None:
    target = target_for(lab.hosts[0])
    payloads = [
        ";touch /tmp/canary",
        "$(touch /tmp/canary)",
        "`touch /tmp/canary`",
        "a | b",
        "x && touch /tmp/canary",
        "line\nbreak",
        "'\"quotes",
        "-oProxyCommand=x",
    ]
    result = asyncio.run(ssh.run(target, ["printf", "%s\\0", *payloads]))
    assert result.stdout.split("\0")[:-1] == payloads
    assert not Path("/tmp/canary").exists()


def test_a_failing_command_raises_with_its_output(lab: Lab) -> None:
    target = target_for(lab.hosts[0])
    with pytest.raises(ssh.CommandFailed) as failure:
        asyncio.run(ssh.run(target, ["sh", "-c", "echo broken >&2; exit 3"]))
    assert failure.value.result.exit_status == 3 and "broken" in str(failure.value)


def test_stream_yields_a_long_output_line_by_line(lab: Lab) -> None:
    target = target_for(lab.hosts[1])

    async def scenario() -> list[str]:
        return [line async for _, line in ssh.stream(target, ["seq", "1", "20000"])]

    lines = asyncio.run(scenario())
    assert len(lines) == 20000 and lines[0] == "1" and lines[-1] == "20000"


def test_closing_a_stream_closes_the_command_on_the_server(lab: Lab) -> None:
    target = target_for(lab.hosts[1])
    marker = f"panel-stream-{uuid.uuid4().hex[:8]}"

    async def scenario() -> str:
        lines = ssh.stream(target, ["sh", "-c", f"echo start; exec sleep 300 # {marker}"])
        first = await anext(lines)
        await lines.aclose()
        await asyncio.sleep(1.0)
        left = await ssh.run(target, ["sh", "-c", f"pgrep -f [{marker[0]}]{marker[1:]} || true"])
        return first[1] + "|" + left.stdout.strip()

    assert asyncio.run(scenario()) == "start|"


def test_put_writes_a_file_with_its_mode(lab: Lab) -> None:
    target = target_for(lab.hosts[0])
    path = f"/tmp/panel-put-{uuid.uuid4().hex[:8]}"
    data = b"SECRET=1\nQUOTE='\"\n" + bytes(range(256))
    asyncio.run(ssh.put(target, path, data, 0o600))
    stat = asyncio.run(ssh.run(target, ["stat", "-c", "%a %s", path]))
    assert stat.stdout.split() == ["600", str(len(data))]
    assert asyncio.run(ssh.run(target, ["sha256sum", path])).stdout.startswith(
        __import__("hashlib").sha256(data).hexdigest()
    )
    asyncio.run(ssh.run(target, ["rm", "-f", path]))


def test_http_through_a_tunnel_reaches_a_container_port(lab: Lab) -> None:
    target = target_for(lab.hosts[0])
    name = f"panel-tunnel-{uuid.uuid4().hex[:8]}"
    asyncio.run(ssh.run(target, ["docker", "run", "-d", "--name", name, "panel-lab/app:v1"]))
    try:
        inspect = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
        address = asyncio.run(
            ssh.run(target, ["docker", "inspect", "-f", inspect, name])
        ).stdout.strip()
        deadline = time.monotonic() + 10
        while True:
            try:
                response = asyncio.run(ssh.http(target, address, 80, "GET", "/"))
                break
            except ssh.ConnectFailed:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert response.status == 200 and response.body.strip() == b"v1"

        async def through_local_port() -> bytes:
            async with ssh.tunnel(target, address, 80) as port:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /up HTTP/1.0\r\n\r\n")
                data = await reader.read()
                writer.close()
                return data

        assert b"200 OK" in asyncio.run(through_local_port())
    finally:
        asyncio.run(ssh.run(target, ["docker", "rm", "-f", name]))


def test_a_wrong_host_key_runs_nothing(lab: Lab) -> None:
    real = target_for(lab.hosts[0])
    wrong = ssh.Target(
        name="lab1-wrong",
        host=real.host,
        port=real.port,
        user=real.user,
        client_key=real.client_key,
        host_key=lab.hosts[1].host_public_key,
    )
    with pytest.raises(ssh.HostKeyMismatch) as mismatch:
        asyncio.run(ssh.run(wrong, ["touch", "/tmp/canary"]))
    assert mismatch.value.offered_key == public_key_line(real.host_key)
    assert not Path("/tmp/canary").exists()


def test_a_killed_sshd_mid_command_gives_a_clear_error(lab: Lab) -> None:
    host = lab.hosts[2]
    target = target_for(host, name="lab3-kill")

    async def scenario() -> str:
        running = asyncio.create_task(ssh.run(target, ["sleep", "30"], timeout=60))
        await asyncio.sleep(1.0)
        # The session's own sshd process (a child of the listener) dies mid-command.
        for pid in _session_sshd_pids(host.user):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(ssh.SshError) as failure:
            await running
        return str(failure.value)

    message = asyncio.run(scenario())
    assert "lab3-kill" in message and "connection was lost" in message
    # The pool reconnects on the next command.
    assert asyncio.run(ssh.run(target, ["true"])).ok


def _session_sshd_pids(user: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if cmdline.startswith(b"sshd: " + user.encode()):
            pids.append(int(entry.name))
    return pids


def test_a_connection_dropped_while_idle_is_replaced_before_the_next_command(lab: Lab) -> None:
    host = lab.hosts[2]
    target = target_for(host, name="lab3-idle")

    async def scenario() -> str:
        await ssh.run(target, ["true"])
        for pid in _session_sshd_pids(host.user):
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.3)
        return (await ssh.run(target, ["echo", "again"])).stdout.strip()

    assert asyncio.run(scenario()) == "again"
