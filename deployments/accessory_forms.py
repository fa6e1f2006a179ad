"""The form that adds an accessory."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from deployments.accessory_kinds import KINDS
from deployments.models import Accessory
from panel.forms import only_choice
from panel.models import Team
from panel.validators import validate_image_reference
from servers.models import Server
from servers.validators import validate_name


class AccessoryForm(forms.Form):
    name = forms.CharField(
        max_length=40,
        validators=[validate_name],
        help_text="Lowercase letters, digits and dashes (db, cache): apps on the same server "
        "reach it by this name.",
    )
    kind = forms.ChoiceField(choices=[(kind.key, kind.label) for kind in KINDS.values()])
    server = forms.ModelChoiceField(
        queryset=Server.objects.none(),
        help_text="It runs on one server; apps on that server reach it over the panel's "
        "network. Nothing is published on the server's addresses.",
    )
    image = forms.CharField(
        max_length=255,
        required=False,
        validators=[validate_image_reference],
        help_text="Empty: the kind's own (postgres:17, redis:7). Needed for any other image.",
    )

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.team = team
        servers = Server.objects.filter(team=team)
        self.fields["server"].queryset = servers  # type: ignore[attr-defined]
        if (server := only_choice(servers)) is not None:
            self.initial.setdefault("server", server.pk)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if Accessory.objects.filter(team=self.team, name=name).exists():
            raise ValidationError("Another accessory of this team has that name.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "custom" and not data.get("image"):
            self.add_error("image", "Name the image to run.")
        return data


class RemoveAccessoryForm(forms.Form):
    with_data = forms.BooleanField(required=False, label="Also remove its data")
    confirm_name = forms.CharField(
        required=False, max_length=40, label="To remove its data, type its name"
    )

    def __init__(self, *args: Any, accessory: Accessory, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.accessory = accessory

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("with_data") and data.get("confirm_name") != self.accessory.name:
            self.add_error("confirm_name", f"Type {self.accessory.name} to remove its data.")
        return data
