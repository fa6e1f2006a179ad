from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from panel import serving, supervise


class Command(BaseCommand):
    help = (
        "Run the web server and a job worker with the scheduler in it; Ctrl-C stops them. "
        "This process then becomes their small supervisor (panel/supervise.py)."
    )

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
                *serving.UVICORN_OPTIONS,
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
                "--queues",
                settings.PANEL_WORKER_QUEUES,
                "--without-gossip",
                "--without-mingle",
                "--beat",
                "--schedule",
                schedule,
            ],
        }
        self.stdout.write(f"Panel at http://{host}:{port} (Ctrl-C stops it)")
        self.stdout.flush()
        supervisor = Path(supervise.__file__)
        os.execv(python, [python, str(supervisor), json.dumps(commands)])  # noqa: S606
