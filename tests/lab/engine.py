"""The machine's own Docker Engine, which builds the lab images."""

from __future__ import annotations

from tests.lab.config import REGISTRY_ADDRESS, RUN_DIR, STATE_DIR
from tests.lab.proc import LabError, ok, read_pid, sh, spawn, stop_pid, wait_for

PIDFILE = RUN_DIR / "host-dockerd.pid"


def running() -> bool:
    return ok("docker", "info")


def start() -> bool:
    """Start dockerd when nothing answers; return True if the lab started it."""
    if running():
        return False
    if read_pid(PIDFILE) is None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        spawn(
            ["dockerd", "--pidfile", str(PIDFILE), f"--insecure-registry={REGISTRY_ADDRESS}"],
            STATE_DIR / "logs" / "host-dockerd.log",
        )
    wait_for(running, "the machine's Docker Engine", timeout=60)
    return True


def stop() -> None:
    pid = read_pid(PIDFILE)
    if pid is not None:
        stop_pid(pid, timeout=30)


def require() -> None:
    if not running():
        raise LabError("Docker Engine is not running; `python -m tests.lab up` starts it.")
    sh("docker", "version")
