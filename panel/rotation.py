"""Re-encrypt every encrypted field with the key ring's current key."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction

from panel.fields import EncryptedTextField


def reencrypt_all(batch_size: int = 500) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in apps.get_models():
        fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
        count = 0
        for pk in model._default_manager.values_list("pk", flat=True).iterator(batch_size):
            with transaction.atomic():
                row = model._default_manager.select_for_update().get(pk=pk)
                for name in fields:
                    getattr(row, name)  # decrypt with whichever key made it
                row.save(update_fields=fields)
                count += 1
        counts[model._meta.label] = count
    return counts
