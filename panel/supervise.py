"""Keeps the panel's processes running together: if one exits, the others are stopped; Ctrl-C
or SIGTERM stops them all. Standard library only, run as a file: `manage.py serve` hands its
process over to it, so no idle copy of Django stays in memory just to watch the others."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

STOP_SECONDS = 15


def supervise(commands: dict[str, list[str]]) -> int:
    children = {name: subprocess.Popen(argv) for name, argv in commands.items()}
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    exited = ""
    try:
        while not stopping and not exited:
            time.sleep(0.3)
            exited = next((n for n, child in children.items() if child.poll() is not None), "")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if exited:
        print(f"{exited} exited with {children[exited].returncode}; stopping.", file=sys.stderr)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 1 if exited else 0


if __name__ == "__main__":
    os._exit(supervise(json.loads(sys.argv[1])))
