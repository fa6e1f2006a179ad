"""Lab services on this machine's loopback: Redis (broker and pub/sub) and moto (S3)."""

from __future__ import annotations

import shutil
import socket
import sys

from tests.lab.config import REDIS_PORT, RUN_DIR, S3_PORT, STATE_DIR
from tests.lab.proc import LabError, read_pid, spawn, stop_pid, wait_for

REDIS_PIDFILE = RUN_DIR / "redis.pid"
S3_PIDFILE = RUN_DIR / "s3.pid"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
S3_ENDPOINT = f"http://127.0.0.1:{S3_PORT}"


def start_redis() -> None:
    if read_pid(REDIS_PIDFILE) is not None:
        return
    server = shutil.which("redis-server")
    if server is None:
        raise LabError("redis-server is not installed (apt-get install redis-server).")
    pid = spawn(
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        STATE_DIR / "logs" / "redis.log",
    )
    REDIS_PIDFILE.write_text(str(pid))
    wait_for(lambda: _listening(REDIS_PORT), "Redis", 20)


def start_s3() -> None:
    if read_pid(S3_PIDFILE) is not None:
        return
    pid = spawn(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(S3_PORT)],
        STATE_DIR / "logs" / "s3.log",
    )
    S3_PIDFILE.write_text(str(pid))
    wait_for(lambda: _listening(S3_PORT), "moto S3", 60)


def stop_all() -> None:
    for pidfile in (REDIS_PIDFILE, S3_PIDFILE):
        pid = read_pid(pidfile)
        if pid is not None:
            stop_pid(pid)
        pidfile.unlink(missing_ok=True)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
