from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from panel.keyfiles import new_encryption_key_line
from panel.rotation import reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret with the current key. With --new-key, first put a new key "
        "at the front of the key file (old keys stay to read values until this finishes)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--new-key", action="store_true")

    def handle(self, *args: Any, new_key: bool, **options: Any) -> None:
        if new_key:
            key_file = settings.PANEL_ENCRYPTION_KEY_FILE
            if key_file is None:
                raise CommandError(
                    "Keys come from PANEL_ENCRYPTION_KEYS: put a new `id:key` entry first there "
                    "then run rotate_keys."
                )
            line = new_encryption_key_line()
            key_file.write_text("\n".join([line, *settings.PANEL_ENCRYPTION_KEYS]) + "\n")
            settings.PANEL_ENCRYPTION_KEYS = [line, *settings.PANEL_ENCRYPTION_KEYS]
            self.stdout.write(f"Added key {line.partition(':')[0]} to {key_file}.")
        counts = reencrypt_all()
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} value(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS("Every value now uses the current key."))
