"""A server's facts as one collection round printed them, read into numbers. Counters the
kernel only ever increases (CPU time, bytes, I/O time) become rates against the round
before, which the caller keeps (`Counters`); the first round of a boot has no rates yet.
Pure: text in, values out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from servers.docker_values import socket_path

SECTOR_BYTES = 512
# Block devices that are not disks of their own.
NOT_A_DISK = re.compile(r"^(loop|ram|zram|sr|fd|nbd|md)\d*")
# Interfaces that mirror traffic counted elsewhere (the loopback, each container's veth).
NOT_AN_INTERFACE = re.compile(r"^(lo|veth.*|docker0|br-.*)$")


# How a mount's fill rate is averaged (an exponential average over about this many seconds),
# and how long it must have been watched before "full in N hours" is said.
FILL_HORIZON = 3600.0
FILL_WATCHED = 1800.0


@dataclass(frozen=True)
class Mount:
    path: str
    size_bytes: int
    used_bytes: int
    used_pct: float
    inodes_pct: float | None
    available_bytes: int = 0
    hours_left: float | None = None  # until full at the current rate, when it grows


@dataclass(frozen=True)
class ContainerState:
    name: str
    state: str  # running, exited, restarting, …
    restarts: int
    health: str  # healthy, unhealthy, starting, or "" without a health check
    app: str
    accessory: str
    started_at: str
    cpu_pct: float | None = None
    memory_bytes: int | None = None
    pid: int = 0  # its first process while it runs


@dataclass(frozen=True)
class Counters:
    """What the next round subtracts: monotonic counters and when they were read."""

    seconds: float  # the host's uptime when read
    boot_id: str
    cpu: tuple[int, ...] = ()
    disks: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # read, written, ms busy
    net: dict[str, tuple[int, int]] = field(default_factory=dict)  # received, sent
    containers: dict[str, int] = field(default_factory=dict)  # CPU time, ns
    # Per mount: bytes used, their average growth (bytes/s), seconds watched.
    fill: dict[str, tuple[int, float, float]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "boot_id": self.boot_id, "cpu": list(self.cpu),
                "disks": {k: list(v) for k, v in self.disks.items()},
                "net": {k: list(v) for k, v in self.net.items()},
                "containers": self.containers,
                "fill": {k: list(v) for k, v in self.fill.items()}}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Counters | None:
        if not data:
            return None
        return cls(
            seconds=float(data["seconds"]),
            boot_id=str(data["boot_id"]),
            cpu=tuple(int(n) for n in data.get("cpu", ())),
            disks={k: (int(a), int(b), int(c)) for k, (a, b, c) in data.get("disks", {}).items()},
            net={k: (int(a), int(b)) for k, (a, b) in data.get("net", {}).items()},
            containers={k: int(v) for k, v in data.get("containers", {}).items()},
            fill={k: (int(a), float(b), float(c)) for k, (a, b, c) in data.get("fill", {}).items()},
        )


@dataclass(frozen=True)
class Reading:
    """One round on one server. Rates are None on a first round (or after a reboot)."""

    counters: Counters
    load1: float
    load5: float
    load15: float
    memory_total: int
    memory_used: int
    swap_total: int
    swap_used: int
    uptime_seconds: float
    boot_id: str
    reboot_required: bool
    processes: int
    threads: int
    tcp_connections: int
    mounts: tuple[Mount, ...]
    containers: tuple[ContainerState, ...]
    docker_socket: str = ""  # where Docker's API answers; "" when only its CLI does
    cpu_pct: float | None = None
    iowait_pct: float | None = None
    disk_read_bps: float | None = None
    disk_write_bps: float | None = None
    disk_busy_pct: float | None = None
    net_in_bps: float | None = None
    net_out_bps: float | None = None

    @property
    def memory_pct(self) -> float:
        return 100.0 * self.memory_used / self.memory_total if self.memory_total else 0.0

    @property
    def fullest(self) -> Mount | None:
        return max(self.mounts, key=lambda mount: mount.used_pct, default=None)


def sections(output: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("@") and " " not in line:
            current = found.setdefault(line[1:], [])
        elif current is not None and line.strip():
            current.append(line)
    return found


def read(output: str, before: Counters | None) -> Reading:
    """The round's output read; rates against `before` when it is of the same boot."""
    parts = sections(output)
    memory = _meminfo(parts.get("meminfo", []))
    load = (parts.get("loadavg") or ["0 0 0 0/0"])[0].split()
    uptime = float((parts.get("uptime") or ["0"])[0].split()[0])
    boot_id = (parts.get("boot") or [""])[0].strip()
    cpu = tuple(int(n) for n in (parts.get("stat") or ["cpu"])[0].split()[1:9])
    disks = _disks(parts.get("diskstats", []), set(parts.get("blocks", [])))
    net = _interfaces(parts.get("netdev", []))
    by_pid = _cgroups(parts.get("cgroups", []))
    inspected = [line.split("|") for line in parts.get("containers", []) if line.count("|") >= 7]
    usage = {words[0].lstrip("/"): by_pid.get(words[7], (None, None)) for words in inspected}
    spent = {name: cpu_ns for name, (cpu_ns, _) in usage.items() if cpu_ns is not None}
    mounts = _mounts(parts.get("df", []), parts.get("dfi", []))
    counters = Counters(seconds=uptime, boot_id=boot_id, cpu=cpu, disks=disks, net=net,
                        containers=spent)  # fmt: skip
    fill = _fill(mounts, before, _elapsed(counters, before))
    counters = replace(counters, fill=fill)
    rates = _rates(counters, before)
    shares = _container_cpu(counters, before)
    return Reading(
        counters=counters,
        load1=float(load[0]),
        load5=float(load[1]),
        load15=float(load[2]),
        memory_total=memory.get("MemTotal", 0),
        memory_used=memory.get("MemTotal", 0) - memory.get("MemAvailable", 0),
        swap_total=memory.get("SwapTotal", 0),
        swap_used=memory.get("SwapTotal", 0) - memory.get("SwapFree", 0),
        uptime_seconds=uptime,
        boot_id=boot_id,
        reboot_required=bool(parts.get("reboot")),
        processes=_int((parts.get("procs") or ["0"])[0]),
        threads=_int(load[3].split("/")[-1]) if len(load) > 3 else 0,
        tcp_connections=_tcp(parts.get("sockstat", [])),
        mounts=tuple(replace(m, hours_left=_hours_left(m, fill[m.path])) for m in mounts),
        containers=_containers(inspected, usage, shares),
        docker_socket=socket_path((parts.get("docker") or [""])[0]),
        **rates,
    )


def _int(text: str) -> int:
    return int(text) if text.strip().isdigit() else 0


def _meminfo(lines: list[str]) -> dict[str, int]:
    values = {}
    for line in lines:
        name, _, rest = line.partition(":")
        words = rest.split()
        if words and words[0].isdigit():
            values[name.strip()] = int(words[0]) * 1024  # kB
    return values


def _tcp(lines: list[str]) -> int:
    """Open TCP sockets (`TCP: inuse N …`)."""
    words = next((line.split() for line in lines if line.startswith("TCP:")), [])
    return int(words[words.index("inuse") + 1]) if "inuse" in words else 0


def _mounts(df: list[str], dfi: list[str]) -> tuple[Mount, ...]:
    """Filesystems on block devices (no tmpfs, overlay or other pseudo filesystems), once
    per mount point."""
    inodes: dict[str, float] = {}
    for line in dfi[1:]:
        words = line.split()
        if len(words) >= 6 and words[4].rstrip("%").isdigit():
            inodes[words[5]] = float(words[4].rstrip("%"))
    mounts: dict[str, Mount] = {}
    for line in df[1:]:
        words = line.split()
        if len(words) < 6 or not words[0].startswith("/dev/") or not words[1].isdigit():
            continue
        size, used, available = int(words[1]) * 1024, int(words[2]) * 1024, int(words[3]) * 1024
        path = " ".join(words[5:])
        # As df computes it: used of what non-root users may use.
        pct = 100.0 * used / (used + available) if used + available else 0.0
        mounts[path] = Mount(path, size, used, round(pct, 2), inodes.get(path), available)
    return tuple(sorted(mounts.values(), key=lambda mount: mount.path))


def _fill(
    mounts: tuple[Mount, ...], before: Counters | None, elapsed: float
) -> dict[str, tuple[int, float, float]]:
    """Each mount's growth, averaged over about `FILL_HORIZON`; it starts again on a mount
    not seen the round before (or after a reboot)."""
    found = {}
    for mount in mounts:
        previous = before.fill.get(mount.path) if before is not None and elapsed else None
        if previous is None:
            found[mount.path] = (mount.used_bytes, 0.0, 0.0)
            continue
        used, rate, watched = previous
        now = (mount.used_bytes - used) / elapsed
        weight = 1.0 if not watched else min(1.0, elapsed / FILL_HORIZON)
        found[mount.path] = (mount.used_bytes, rate + weight * (now - rate), watched + elapsed)
    return found


def _hours_left(mount: Mount, fill: tuple[int, float, float]) -> float | None:
    _, rate, watched = fill
    if rate <= 0 or watched < FILL_WATCHED:
        return None
    return round(mount.available_bytes / rate / 3600, 2)


def _disks(lines: list[str], blocks: set[str]) -> dict[str, tuple[int, int, int]]:
    disks = {}
    for line in lines:
        words = line.split()
        if len(words) < 14:
            continue
        name = words[2]
        if (blocks and name not in blocks) or NOT_A_DISK.match(name):
            continue
        read_bytes = int(words[5]) * SECTOR_BYTES
        written_bytes = int(words[9]) * SECTOR_BYTES
        disks[name] = (read_bytes, written_bytes, int(words[12]))
    return disks


def _interfaces(lines: list[str]) -> dict[str, tuple[int, int]]:
    interfaces = {}
    for line in lines:
        name, _, rest = line.partition(":")
        words = rest.split()
        if len(words) >= 9 and not NOT_AN_INTERFACE.match(name.strip()):
            interfaces[name.strip()] = (int(words[0]), int(words[8]))
    return interfaces


def _elapsed(now: Counters, before: Counters | None) -> float:
    """Seconds since the round before, or 0 when there are no rates to compute (no round
    before, another boot, or a clock that did not move)."""
    if before is None or before.boot_id != now.boot_id or now.seconds <= before.seconds:
        return 0.0
    return now.seconds - before.seconds


def _rates(now: Counters, before: Counters | None) -> dict[str, float | None]:
    elapsed = _elapsed(now, before)
    if not elapsed or before is None:
        return {}
    rates: dict[str, float | None] = {}
    if len(now.cpu) >= 5 and len(before.cpu) == len(now.cpu):
        spent = [a - b for a, b in zip(now.cpu, before.cpu, strict=True)]
        total = sum(spent)
        if total > 0:
            idle, iowait = spent[3], spent[4]
            rates["cpu_pct"] = round(100.0 * (total - idle - iowait) / total, 2)
            rates["iowait_pct"] = round(100.0 * iowait / total, 2)
    shared = [name for name in now.disks if name in before.disks]
    if shared:
        read_bytes = sum(now.disks[n][0] - before.disks[n][0] for n in shared)
        written = sum(now.disks[n][1] - before.disks[n][1] for n in shared)
        busy = max(now.disks[n][2] - before.disks[n][2] for n in shared)
        rates["disk_read_bps"] = round(read_bytes / elapsed, 1)
        rates["disk_write_bps"] = round(written / elapsed, 1)
        rates["disk_busy_pct"] = round(min(100.0, busy / (10.0 * elapsed)), 2)
    common = [name for name in now.net if name in before.net]
    if common:
        received = sum(now.net[n][0] - before.net[n][0] for n in common)
        sent = sum(now.net[n][1] - before.net[n][1] for n in common)
        rates["net_in_bps"] = round(received / elapsed, 1)
        rates["net_out_bps"] = round(sent / elapsed, 1)
    return rates


def _cgroups(lines: list[str]) -> dict[str, tuple[int | None, int | None]]:
    """Each running container's CPU time (ns) and memory (bytes) by its first process, when
    its cgroup told."""
    usage: dict[str, tuple[int | None, int | None]] = {}
    for line in lines:
        pid, _, rest = line.partition("|")
        cpu_ns, _, memory = rest.partition("|")
        usage[pid] = (_number(cpu_ns), _number(memory))
    return usage


def _number(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def _container_cpu(now: Counters, before: Counters | None) -> dict[str, float]:
    """A container's CPU since the round before, in percent of one core (as `docker stats`)."""
    elapsed_ns = _elapsed(now, before) * 1e9
    if not elapsed_ns or before is None:
        return {}
    return {
        name: round(100.0 * max(0, spent - before.containers[name]) / elapsed_ns, 2)
        for name, spent in now.containers.items()
        if name in before.containers
    }


def _containers(
    inspected: list[list[str]], usage: dict[str, tuple[int | None, int | None]],
    shares: dict[str, float],
) -> tuple[ContainerState, ...]:  # fmt: skip
    found = []
    for words in inspected:
        name = words[0].lstrip("/")
        found.append(ContainerState(
            name=name, state=words[1], restarts=_int(words[2]), health=words[3], app=words[4],
            accessory=words[5], started_at=words[6], cpu_pct=shares.get(name),
            memory_bytes=usage.get(name, (None, None))[1], pid=_int(words[7]),
        ))  # fmt: skip
    return tuple(sorted(found, key=lambda container: container.name))
