"""The state of accessories that jobs record, with its audit events."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from deployments.models import Accessory
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction


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
