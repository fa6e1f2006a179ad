"""Collection rounds on the lab's three hosts: every metric read, the values as the host itself
reports them, rates from the second round on, a running container seen with its usage, and a
host whose sshd stops marked unreachable after two rounds (the others not delayed), then
reachable again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from django.utils import timezone

from monitoring.models import (
    Alert,
    AlertKind,
    EventKind,
    HostEvent,
    HostHealth,
    HostStatus,
    Sample,
)
from monitoring.operations.collect import collect_round
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.lab import hosts as lab_hosts
from tests.lab.images import app_image
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def _again() -> None:
    """The next round takes every server, as if their interval had passed."""
    HostHealth.objects.update(claimed_at=None)


def _memory_pct_here() -> float:
    """What the kernel says this moment (the lab hosts share this machine's kernel)."""
    values = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0])
    return 100.0 * (values["MemTotal"] - values["MemAvailable"]) / values["MemTotal"]


def test_a_round_reads_every_metric_of_every_host(lab_servers: list[Server]) -> None:
    first = collect_round()
    assert (first.servers, first.answered) == (3, 3), first.errors
    assert collect_round().servers == 0  # not due again yet
    # The first round learnt where Docker listens; the next ones ask its API there.
    sockets = set(HostHealth.objects.values_list("docker_socket", flat=True))
    assert all(socket.endswith("/docker.sock") for socket in sockets), sockets
    target = target_for(lab_servers[0])
    name = "monitored-canary"
    asyncio.run(ssh.run(target, ["docker", "rm", "--force", name], check=False))
    asyncio.run(ssh.run(target, ["docker", "run", "--detach", "--name", name, app_image("v1")]))
    try:
        time.sleep(2)
        _again()
        second = collect_round()
        assert second.answered == 3 and second.seconds < 10, second
    finally:
        asyncio.run(ssh.run(target, ["docker", "rm", "--force", name], check=False))
    here = _memory_pct_here()
    for server in lab_servers:
        health = HostHealth.objects.get(server=server)
        assert health.status == HostStatus.UP and health.boot_id and health.booted_at
        latest = Sample.objects.filter(server=server).latest("at")
        assert abs(latest.memory_pct - here) < 2, (latest.memory_pct, here)
        assert latest.cpu_pct is not None and 0 <= latest.cpu_pct <= 100
        assert latest.net_in_bps is not None and latest.disk_busy_pct is not None
        assert latest.threads > latest.processes > 10 and latest.tcp_connections > 0
        assert any(mount["path"] == "/" for mount in latest.mounts)
        assert latest.disk_pct is not None and latest.memory_total > 0
    containers = Sample.objects.filter(server=lab_servers[0]).latest("at").containers
    canary = next(c for c in containers if c["name"] == name)
    assert canary["state"] == "running" and canary["memory_bytes"] > 0
    assert Sample.objects.count() == 6


def test_docker_s_cli_answers_where_its_api_cannot_be_reached(lab_servers: list[Server]) -> None:
    first = lab_servers[0]
    target = target_for(first)
    name = "monitored-through-cli"
    asyncio.run(ssh.run(target, ["docker", "rm", "--force", name], check=False))
    asyncio.run(ssh.run(target, ["docker", "run", "--detach", "--name", name, app_image("v1")]))
    try:
        assert collect_round().answered == 3
        HostHealth.objects.filter(server=first).update(docker_socket="/run/no-such.sock")
        _again()
        assert collect_round().answered == 3
    finally:
        asyncio.run(ssh.run(target, ["docker", "rm", "--force", name], check=False))
    containers = Sample.objects.filter(server=first).latest("at").containers
    seen = next(c for c in containers if c["name"] == name)
    assert seen["state"] == "running" and seen["memory_bytes"] > 0 and seen["started_at"]
    # The reading says where Docker listens again, so the next round tries its API.
    assert HostHealth.objects.get(server=first).docker_socket.endswith("/docker.sock")


def test_a_host_cut_off_is_unreachable_after_two_rounds_and_delays_no_other(
    lab_servers: list[Server], lab: Lab
) -> None:
    cut = lab_servers[2]
    spec = next(host.spec for host in lab.hosts if host.address == cut.host)
    assert collect_round().answered == 3
    with lab_hosts.sshd_down(spec):
        asyncio.run(ssh.close_all())  # as after a network cut: the pooled connection is gone
        for expected in (HostStatus.UP, HostStatus.UNREACHABLE):
            _again()
            started = time.monotonic()
            result = collect_round()
            assert result.answered == 2 and cut.name in result.errors
            assert time.monotonic() - started < 15
            assert HostHealth.objects.get(server=cut).status == expected
    assert HostEvent.objects.get(server=cut, kind=EventKind.UNREACHABLE).at <= timezone.now()
    alert = Alert.objects.get(server=cut, kind=AlertKind.UNREACHABLE)
    assert alert.title == f"{cut.name} is unreachable" and alert.resolved_at is None
    _again()
    assert collect_round().answered == 3
    assert HostHealth.objects.get(server=cut).status == HostStatus.UP
    assert HostEvent.objects.filter(server=cut, kind=EventKind.REACHABLE).exists()
    alert.refresh_from_db()
    assert alert.resolved_at is not None
