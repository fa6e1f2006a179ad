from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from panel.audit import verify_chain
from panel.models import AuditEvent


class Command(BaseCommand):
    help = "Audit trail tools. `audit verify` recomputes the hash chain and reports tampering."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        problems = list(verify_chain())
        for problem in problems:
            self.stderr.write(f"event {problem.event_id}: {problem.reason}")
        if problems:
            raise CommandError(f"The audit chain is broken in {len(problems)} place(s).")
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"The audit chain of {count} events is intact."))
