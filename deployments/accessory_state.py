"""The state of accessories that jobs record, with its audit events."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from deployments.models import Accessory
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction
from panel.sensitive import Sensitive


def stored(accessory: Accessory) -> dict[str, Any]:
    """Its encrypted settings: variables, password and files."""
    text = accessory.env.reveal() if accessory.env else ""
    return dict(json.loads(text)) if text else {}


def set_file(accessory: Accessory, actor: Actor, path: str, content: str, *, secret: bool) -> None:
    with transaction.atomic():
        locked = Accessory.objects.select_for_update().get(pk=accessory.pk)
        settings = stored(locked)
        settings.setdefault("files", {})[path] = {"content": content, "secret": secret}
        locked.env = Sensitive(json.dumps(settings))
        locked.save(update_fields=["env"])
        audit.record(
            actor,
            AuditAction.ACCESSORY_FILE_SET,
            team=accessory.team,
            target=accessory,
            details={"path": path, "secret": secret, "bytes": len(content.encode())},
        )


def remove_file(accessory: Accessory, actor: Actor, path: str) -> None:
    with transaction.atomic():
        locked = Accessory.objects.select_for_update().get(pk=accessory.pk)
        settings = stored(locked)
        settings.get("files", {}).pop(path, None)
        locked.env = Sensitive(json.dumps(settings))
        locked.save(update_fields=["env"])
        audit.record(
            actor,
            AuditAction.ACCESSORY_FILE_REMOVE,
            team=accessory.team,
            target=accessory,
            details={"path": path},
        )


def password_shown(accessory: Accessory, actor: Actor) -> str:
    """Its generated password, for one page an admin asked for; the asking is audited."""
    audit.record(actor, AuditAction.ACCESSORY_PASSWORD_SHOWN, team=accessory.team, target=accessory)
    return str(stored(accessory).get("password", ""))


def booted(accessory: Accessory, actor: Actor) -> None:
    with transaction.atomic():
        Accessory.objects.filter(pk=accessory.pk).update(booted_at=timezone.now())
        audit.record(
            actor,
            AuditAction.ACCESSORY_BOOTED,
            team=accessory.team,
            target=accessory,
            details={"image": accessory.image, "server": accessory.server.name},
        )


def removed(accessory: Accessory, actor: Actor, *, with_data: bool) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            AuditAction.ACCESSORY_REMOVE,
            team=accessory.team,
            target=accessory,
            details={"server": accessory.server.name, "data_removed": with_data},
        )
        accessory.delete()
