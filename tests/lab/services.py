"""Lab services on this machine's loopback: Redis (broker and pub/sub), moto (S3), and the
receivers of notifications (an SMTP sink, a webhook receiver)."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

from tests.lab.config import BRIDGE_ADDRESS, REDIS_PORT, RUN_DIR, S3_PORT, STATE_DIR
from tests.lab.proc import LabError, pid_alive, read_pid, sh, spawn, stop_pid, wait_for

POSTGRES_PORT = 5433
POSTGRES_DIR = STATE_DIR / "postgres"
POSTGRES_URL = f"postgres://panel@127.0.0.1:{POSTGRES_PORT}/postgres"
REDIS_PIDFILE = RUN_DIR / "redis.pid"
S3_PIDFILE = RUN_DIR / "s3.pid"
SMTP_PORT, WEBHOOK_PORT = 2525, 2580
INBOX = STATE_DIR / "inbox"  # one file per message received
RECEIVERS = {"smtp": SMTP_PORT, "http": WEBHOOK_PORT}
# An apprise channel to the SMTP sink, as a test or a benchmark adds it.
MAIL_URL = f"mailto://127.0.0.1:{SMTP_PORT}?from=panel@lab.test&to=ops@lab.test&secure=no"
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
S3_ENDPOINT = f"http://127.0.0.1:{S3_PORT}"
# The same S3 as the lab hosts reach it, over the lab's bridge.
S3_ON_BRIDGE = f"http://{BRIDGE_ADDRESS}:{S3_PORT}"


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
        [sys.executable, "-m", "moto.server", "-H", "0.0.0.0", "-p", str(S3_PORT)],
        STATE_DIR / "logs" / "s3.log",
    )
    S3_PIDFILE.write_text(str(pid))
    wait_for(lambda: _listening(S3_PORT), "moto S3", 60)


def start_receiver(kind: str) -> None:
    pidfile = RUN_DIR / f"{kind}-receiver.pid"
    if read_pid(pidfile) is not None:
        return
    port = RECEIVERS[kind]
    argv = [sys.executable, "-m", "tests.lab.receivers", kind, str(port), str(INBOX)]
    pid = spawn(argv, STATE_DIR / "logs" / f"{kind}-receiver.log")
    pidfile.write_text(str(pid))
    wait_for(lambda: _listening(port), f"the {kind} receiver", 20)


def empty_inbox() -> None:
    INBOX.mkdir(parents=True, exist_ok=True)
    for message in INBOX.glob("*.json"):
        message.unlink()


def inbox(kind: str = "") -> list[dict[str, Any]]:
    """What the receivers got, oldest first: `mail` (from, to, content) or `hook` (path,
    body); both when no kind is named."""
    pattern = f"*-{kind}-*.json" if kind else "*.json"
    return [json.loads(path.read_text()) for path in sorted(INBOX.glob(pattern))]


def receiver_up(kind: str) -> bool:
    return read_pid(RUN_DIR / f"{kind}-receiver.pid") is not None


def stop_receiver(kind: str) -> None:
    pidfile = RUN_DIR / f"{kind}-receiver.pid"
    pid = read_pid(pidfile)
    if pid is not None:
        stop_pid(pid)
    pidfile.unlink(missing_ok=True)


def start_postgres() -> None:
    """PostgreSQL from Debian's package, for the suite's second pass on PostgreSQL."""
    if postgres_pid() is not None:
        return
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not binaries:
        raise LabError("PostgreSQL is not installed (apt-get install postgresql).")
    bin_dir = binaries[-1]
    if not (POSTGRES_DIR / "PG_VERSION").exists():
        POSTGRES_DIR.mkdir(parents=True, exist_ok=True)
        shutil.chown(POSTGRES_DIR, "postgres", "postgres")
        sh(
            "runuser",
            "-u",
            "postgres",
            "--",
            str(bin_dir / "initdb"),
            "-D",
            str(POSTGRES_DIR),
            "-U",
            "panel",
            "--auth=trust",
            "--no-sync",
        )
    socket_dir = RUN_DIR / "postgres"
    socket_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(socket_dir, "postgres", "postgres")
    spawn(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(bin_dir / "postgres"),
            "-D",
            str(POSTGRES_DIR),
            "-h",
            "127.0.0.1",
            "-p",
            str(POSTGRES_PORT),
            "-k",
            str(socket_dir),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ],
        STATE_DIR / "logs" / "postgres.log",
    )
    wait_for(lambda: _listening(POSTGRES_PORT), "PostgreSQL", 30)


def postgres_pid() -> int | None:
    try:
        pid = int((POSTGRES_DIR / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def stop_all() -> None:
    pid = postgres_pid()
    if pid is not None:
        stop_pid(pid, timeout=30)
    for pidfile in (REDIS_PIDFILE, S3_PIDFILE):
        pid = read_pid(pidfile)
        if pid is not None:
            stop_pid(pid)
        pidfile.unlink(missing_ok=True)
    for kind in RECEIVERS:
        stop_receiver(kind)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
