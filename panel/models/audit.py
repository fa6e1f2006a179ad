from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ActorType(models.TextChoices):
    USER = "user", "User"
    TOKEN = "token", "API token"
    WEBHOOK = "webhook", "Webhook"
    SCHEDULE = "schedule", "Schedule"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    """Append-only: each row carries the hash of the previous one (see panel.audit)."""

    at = models.DateTimeField(db_index=True)
    team = models.ForeignKey(
        "panel.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team_label = models.CharField(max_length=100, blank=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["team", "-id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """A single row locked while appending, so concurrent writers chain one after another."""

    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.last_hash
