"""Copying a ~500 MB image from one lab host to another: the executor's pipe (`docker save`
on A streamed into `docker load` on B through the panel) vs a bare
`ssh A docker save | ssh B docker load`, and how much the panel's peak memory grows."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from servers import ssh
from tests.lab.lab import LabHost, describe
from tests.servers.lab_targets import target_for

IMAGE = "bench/blob:500m"
MEGABYTES = 500
RUNS = 3
MAKE_IMAGE = f"""
set -e
mkdir -p bench-blob && cd bench-blob
[ -f blob ] || head -c {MEGABYTES * 1_000_000} /dev/urandom > blob
printf 'FROM scratch\\nCOPY blob /blob\\n' > Dockerfile
docker build --quiet --tag {IMAGE} . >/dev/null
"""


def main() -> None:
    lab = describe()
    source, receiver = lab.hosts[0], lab.hosts[1]
    a, b = target_for(source), target_for(receiver)
    if not asyncio.run(ssh.run(a, ["docker", "image", "inspect", IMAGE], check=False)).ok:
        asyncio.run(ssh.run(a, ["sh", "-c", MAKE_IMAGE], timeout=900))
    known_hosts = Path(tempfile.mkdtemp(prefix="bench-copy-")) / "known_hosts"
    known_hosts.write_text(
        "".join(f"{h.address} {h.host_public_key}\n" for h in (source, receiver))
    )
    panel_times, bare_times, increases = [], [], []
    for _ in range(RUNS):
        _remove(b)
        before = _resident_kib()
        _reset_peak()
        started = time.perf_counter()
        asyncio.run(
            ssh.pipe(a, ["docker", "save", IMAGE], b, ["docker", "load", "--quiet"], timeout=900)
        )
        panel_times.append(time.perf_counter() - started)
        increases.append((_peak_kib() - before) / 1024)
        _remove(b)
        bare_times.append(_bare_copy(source, receiver, known_hosts))
    _remove(b)
    print(f"image: {IMAGE} ({MEGABYTES} MB of random bytes)")
    print(f"panel runs: {', '.join(f'{t:.2f}' for t in panel_times)} s")
    print(f"bare runs:  {', '.join(f'{t:.2f}' for t in bare_times)} s")
    print(f"panel peak memory increase per run: {', '.join(f'{m:.1f}' for m in increases)} MB")
    print(f"rss increase: {max(increases):.1f} MB")
    print(f"ratio: {statistics.median(panel_times) / statistics.median(bare_times):.2f}")


def _bare_copy(source: LabHost, receiver: LabHost, known_hosts: Path) -> float:
    def ssh_to(host: LabHost) -> list[str]:
        return ["ssh", "-i", str(host.client_key), "-o", f"UserKnownHostsFile={known_hosts}",
                "-o", "BatchMode=yes", f"{host.user}@{host.address}"]  # fmt: skip

    started = time.perf_counter()
    save = subprocess.Popen([*ssh_to(source), "docker", "save", IMAGE], stdout=subprocess.PIPE)
    load = subprocess.run(
        [*ssh_to(receiver), "docker", "load", "--quiet"],
        stdin=save.stdout,
        capture_output=True,
        check=True,
    )
    assert save.stdout is not None
    save.stdout.close()
    if save.wait() != 0 or not load.stdout:
        raise SystemExit("the bare copy failed")
    return time.perf_counter() - started


def _remove(target: ssh.Target) -> None:
    asyncio.run(ssh.run(target, ["docker", "image", "rm", "--force", IMAGE], check=False))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} in /proc/self/status")


def _resident_kib() -> int:
    return _status_kib("VmRSS")


def _peak_kib() -> int:
    return _status_kib("VmHWM")


def _reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets the peak resident size to the current one."""
    Path("/proc/self/clear_refs").write_text("5")


if __name__ == "__main__":
    main()
