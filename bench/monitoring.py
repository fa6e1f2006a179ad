"""Monitoring's costs, on the lab:

- a collection round over 500 server records (the three lab hosts, repeated): its wall time and
  the panel's CPU for it (goals: under 5 s, under 1 s);
- what one sample costs a host (its sshd, the script, Docker's answers, as CPU time) against
  one scrape of Debian's `prometheus-node-exporter` on the same host, measured side by side;
- the panel's memory (web, worker, scheduler) while it monitors 100 servers (goal: 300 MB);
- from a disk filled past its threshold to the mail in the lab's SMTP sink, when the next round
  comes (goal: one round + 5 s);
- a 7-day chart of one server among 500 with a week of rollups each (goal: 50 ms).

Ends with `round wall: S s`, `round cpu: S s`, `host cost vs node_exporter: R`, `memory: N MB`,
`notify latency: S s`, `chart query: N ms`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench.memory import total_mib, tree
from bench.panel_env import Fixture, lab_fixture, setup_django
from tests.lab.proc import answers, free_port, wait_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from servers.models import Server

ROOT = Path(__file__).resolve().parent.parent
RECORDS, ROUNDS, SAMPLES, CHART_SERVERS = 500, 3, 20, 500
TICKS = os.sysconf("SC_CLK_TCK")


def copies(fixture: Fixture, count: int) -> list[Server]:
    """Server records beyond the lab's three, each one of them again under another name."""
    from servers.models import Server

    made = []
    for n in range(count - len(fixture.servers)):
        like = fixture.servers[n % len(fixture.servers)]
        made.append(Server(
            team=fixture.team, name=f"copy{n}", host=like.host, port=like.port, user=like.user,
            ssh_key=like.ssh_key, host_key_state=like.host_key_state, host_key=like.host_key,
            host_key_fingerprint=like.host_key_fingerprint,
        ))  # fmt: skip
    return [*fixture.servers, *Server.objects.bulk_create(made)]


def rounds() -> tuple[float, float]:
    from monitoring.models import HostHealth
    from monitoring.operations.collect import collect_round

    collect_round()  # connections opened, counters read once
    walls, cpus = [], []
    for _ in range(ROUNDS):
        HostHealth.objects.update(claimed_at=None)
        cpu, wall = time.process_time(), time.perf_counter()
        result = collect_round()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert result.answered == RECORDS, result.errors
        print(f"round: {result.answered} servers in {walls[-1]:.2f} s, panel CPU {cpus[-1]:.2f} s")
    return statistics.median(walls), statistics.median(cpus)


def busy_seconds() -> float:
    """CPU time this machine spent on anything but idling, all cores together."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICKS


def host_cost(fixture: Fixture) -> tuple[float, float]:
    """CPU per sample on a lab host, in milliseconds, as the machine's busy time less this
    process's: a round's questions to one host (its sshd, the script, Docker answering), then
    one node_exporter scrape. The lab hosts share this machine, so both are counted alike."""
    from monitoring.models import HostHealth
    from monitoring.operations.collect import ask

    health = HostHealth.objects.select_related("server__ssh_key").get(server=fixture.servers[0])
    assert health.docker_socket, "the rounds before learnt where Docker listens"

    def per_sample(sample: Callable[[], object]) -> float:
        """Its cost less what the machine spends anyway (its lab, its services) in as long
        a while with nothing asked, measured just before."""
        sample()
        busy, wall, mine = busy_seconds(), time.perf_counter(), time.process_time()
        for _ in range(SAMPLES):
            sample()
        spent = busy_seconds() - busy - (time.process_time() - mine)
        took = time.perf_counter() - wall
        idle = busy_seconds()
        time.sleep(took)
        background = busy_seconds() - idle
        return max(0.0, spent - background) / SAMPLES * 1000

    ours = per_sample(lambda: asyncio.run(ask(health)))
    binary = shutil.which("prometheus-node-exporter")
    if binary is None:
        raise SystemExit("prometheus-node-exporter is not installed (make bench installs it).")
    port = free_port()
    exporter = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        wait_for(lambda: answers(url), "node_exporter", 30)
        theirs = per_sample(lambda: urllib.request.urlopen(url, timeout=30).read())
    finally:
        exporter.terminate()
        exporter.wait(10)
    return ours, theirs


def memory() -> float:
    """PSS of `manage.py serve` while its rounds collect the 100 servers of a second panel
    data directory (its own SQLite), after a minute of rounds."""
    env = {**os.environ, "REDIS_URL": ""}
    port = free_port()
    serve = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    from monitoring.models import Round

    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/login"), "the panel", 60)
        wait_for(lambda: Round.objects.filter(answered__gte=100).count() >= 2, "two rounds", 120)
        pss, _ = total_mib(tree(serve.pid))
    finally:
        serve.terminate()
        serve.wait(15)
    return pss


def notify_latency(fixture: Fixture) -> float:
    from monitoring import services
    from monitoring.models import HostHealth
    from monitoring.operations.collect import collect_round
    from panel.audit import Actor
    from servers import ssh
    from servers.targets import target_for
    from tests.lab import hosts as lab_hosts
    from tests.lab import services as lab_services

    services.create_channel(Actor.system("bench"), fixture.team, name="bench-mail",
                            url=lab_services.MAIL_URL,
                            kinds=["disk"])  # fmt: skip
    big = lab_hosts.SMALL_DISK / "bench-big"
    target = target_for(fixture.servers[0])
    lab_services.empty_inbox()
    asyncio.run(ssh.run(target, ["fallocate", "-l", "48M", str(big)]))
    try:
        started = time.perf_counter()
        HostHealth.objects.update(claimed_at=None)
        collect_round()
        while not any("Subject: [Alert]" in m["content"] for m in lab_services.inbox("mail")):
            assert time.perf_counter() - started < 60, "no mail"
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        asyncio.run(ssh.run(target, ["rm", "-f", str(big)]))


def chart_query(servers: list[Server]) -> float:
    from django.utils import timezone

    from monitoring.models import Rollup
    from monitoring.series import series

    now = timezone.now().replace(second=0, microsecond=0)
    buckets = [now - timedelta(minutes=5 * n) for n in range(7 * 24 * 12)]
    values = {f"{name}_{how}": 10.0 for name in ("cpu", "iowait", "memory", "disk", "load",
              "net_in", "net_out") for how in ("min", "avg", "max")}  # fmt: skip
    for server in servers[:CHART_SERVERS]:
        Rollup.objects.bulk_create(
            (Rollup(server=server, bucket=bucket, samples=10, **values) for bucket in buckets),
            batch_size=2000,
        )
    times = []
    for n in range(SAMPLES):
        started = time.perf_counter()
        series(servers[(n * 37) % CHART_SERVERS].pk, "7d", now)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    setup_django()
    from servers.models import Server

    fixture = lab_fixture()
    servers = copies(fixture, RECORDS)
    wall, cpu = rounds()
    ours, theirs = host_cost(fixture)
    print(f"one sample: ours {ours:.1f} ms of CPU, one node_exporter scrape {theirs:.1f} ms")
    chart = chart_query(servers)
    # The three lab hosts alone: every record of a host sees its small disk fill up.
    Server.objects.filter(pk__in=[server.pk for server in servers[3:]]).delete()
    latency = notify_latency(fixture)
    print(f"disk filled → mail in the sink: {latency:.2f} s, the round that saw it included")
    copies(fixture, 100)
    pss = memory()
    print(f"round wall: {wall:.2f} s")
    print(f"round cpu: {cpu:.2f} s")
    print(f"host cost vs node_exporter: {ours / theirs:.2f}")
    print(f"memory: {pss:.0f} MB")
    print(f"notify latency: {latency:.2f} s")
    print(f"chart query: {chart:.1f} ms")


if __name__ == "__main__":
    main()
