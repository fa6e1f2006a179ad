from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import models

from panel.fields import EncryptedTextField
from panel.schedules import validate_schedule
from panel.sensitive import Sensitive
from servers.validators import validate_name


class Runbook(models.Model):
    """Ordered steps (`runbooks.steps`, kept as the YAML a person wrote) that run as a job;
    the values its HTTP steps name as ${NAME} are its secrets, encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="runbooks")
    name = models.CharField(max_length=63, validators=[validate_name])
    description = models.CharField(max_length=300, blank=True)
    steps = models.TextField()
    secrets = EncryptedTextField(blank=True, default="")  # a JSON object of names and values
    # Its HTTP steps may reach the panel's machine, link-local (metadata) addresses and the
    # panel's database: only an admin sets it.
    allow_internal = models.BooleanField(default=False)
    schedule = models.CharField(max_length=100, blank=True, validators=[validate_schedule])
    last_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="runbook_name_per_team")
        ]

    def __str__(self) -> str:
        return self.name

    def secret_values(self) -> dict[str, str]:
        text = self.secrets.reveal() if isinstance(self.secrets, Sensitive) else ""
        return dict(json.loads(text)) if text else {}


class Confirmation(models.Model):
    """A person let a runbook's run go on past a step that waited for them."""

    job = models.ForeignKey("panel.Job", on_delete=models.CASCADE, related_name="confirmations")
    step = models.PositiveIntegerField()  # its index in the run's steps
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    user_label = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "step"], name="one_confirmation_a_step")
        ]

    def __str__(self) -> str:
        return f"step {self.step} of job {self.job_id} by {self.user_label}"
