from __future__ import annotations

import uuid

from django.core.validators import RegexValidator
from django.db import models

from panel.fields import EncryptedTextField

secret_name_validator = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_]{0,127}$",
    "Use letters, digits and underscores; start with a letter or underscore (max 128).",
)


class Secret(models.Model):
    """A named secret of a team (registry passwords, shared tokens), encrypted at rest."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("panel.Team", on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=128, validators=[secret_name_validator])
    value = EncryptedTextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="secret_name_per_team")
        ]

    def __str__(self) -> str:
        return self.name
