from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from panel import first_run


class Command(BaseCommand):
    help = (
        "Wait until the database's schema is current and the first admin exists: the web "
        "server serves no page before, and the worker runs no job on an older schema."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--timeout", type=float, default=0, help="seconds; 0: for ever")

    def handle(self, *args: Any, timeout: float, **options: Any) -> None:
        still_missing = first_run.wait_for(first_run.missing, timeout, self.stdout.write)
        if still_missing:
            raise CommandError(f"After {timeout:g} seconds: {still_missing}")
