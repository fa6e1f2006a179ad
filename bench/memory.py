"""The panel's memory at rest: `manage.py serve` (web, job worker, scheduler) on the embedded
defaults (SQLite, no Redis), with 100 servers and 100 apps recorded, after its first pages.

Baseline in the same run: one bare Python process that has set Django up with the panel's
settings. Figures are PSS (shared pages split between the processes that share them, so
forked workers are not counted twice) and RSS.
Goal (DESIGN): under 300 MB for web + worker + scheduler.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.panel_env import setup_django
from tests.lab.proc import answers, free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
SETTLE_SECONDS = 20


def memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Pss", "Rss"):
            values[name] = int(rest.split()[0])
    return values["Pss"], values["Rss"]


def tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(p for child in children for p in tree(int(child)))]


def total_mib(pids: list[int]) -> tuple[float, float]:
    pss, rss = 0, 0
    for pid in pids:
        try:
            one_pss, one_rss = memory_kib(pid)
        except FileNotFoundError:
            continue
        pss, rss = pss + one_pss, rss + one_rss
    return pss / 1024, rss / 1024


def main() -> None:
    setup_django()
    from bench.dashboard import make_team

    make_team("memory", 100, 100, 100)
    env = {**os.environ, "REDIS_URL": ""}
    bare = subprocess.Popen(
        [sys.executable, "-c", "import django, time; django.setup(); time.sleep(60)"],
        cwd=ROOT,
        env=env,
    )
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/login"), "the panel", 60)
        time.sleep(SETTLE_SECONDS)
        pids = tree(serve.pid)
        panel_pss, panel_rss = total_mib(pids)
        bare_pss, bare_rss = total_mib([bare.pid])
    finally:
        serve.terminate()
        serve.wait(15)
        bare.terminate()
    print(f"panel ({len(pids)} processes): PSS {panel_pss:.0f} MiB, RSS {panel_rss:.0f} MiB")
    print(f"bare Django process: PSS {bare_pss:.0f} MiB, RSS {bare_rss:.0f} MiB")
    print(f"pss mib: {panel_pss:.0f}")
    print(f"rss mib: {panel_rss:.0f}")
    print(f"ratio to one bare process: {panel_pss / bare_pss:.1f}")


if __name__ == "__main__":
    main()
