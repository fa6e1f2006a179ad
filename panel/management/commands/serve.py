from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, a job worker and the scheduler together; Ctrl-C stops all three."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--concurrency", default="2")

    def handle(self, *args: Any, host: str, port: str, concurrency: str, **options: Any) -> None:
        python = sys.executable
        schedule = str(settings.PANEL_DATA_DIR / "celerybeat-schedule")
        commands = {
            "web": [
                python,
                "-m",
                "uvicorn",
                "panel.asgi:application",
                "--host",
                host,
                "--port",
                port,
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "3",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "panel",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                concurrency,
                "--without-gossip",
                "--without-mingle",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "panel",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                schedule,
            ],
        }
        children = {name: subprocess.Popen(argv) for name, argv in commands.items()}
        self.stdout.write(f"Panel at http://{host}:{port} (Ctrl-C stops it)")
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exited = ""
        while not stopping and not exited:
            time.sleep(0.3)
            exited = next((n for n, c in children.items() if c.poll() is not None), "")
        if exited:
            self.stderr.write(f"{exited} exited with {children[exited].returncode}; stopping.")
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        os._exit(1 if exited else 0)
