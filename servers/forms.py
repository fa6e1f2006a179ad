from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from panel.forms import only_choice
from panel.models import Team
from panel.validators import validate_image_reference
from servers.models import Server, SshKey
from servers.validators import (
    validate_exec_command,
    validate_host,
    validate_label,
    validate_name,
    validate_posix_user,
)


class LabelsField(forms.CharField):
    """Comma- or space-separated labels, cleaned to a sorted list."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        labels = sorted({part for part in text.replace(",", " ").split() if part})
        for label in labels:
            validate_label(label)
        return labels

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value


SERVER_FIELDS = ("name", "host", "port", "user", "ssh_key", "labels", "proxy_image")
NAME_RULES = "Lowercase letters, digits and dashes, starting with a letter or digit (web-1)."


class ServerForm(forms.Form):
    name = forms.CharField(max_length=63, validators=[validate_name], help_text=NAME_RULES)
    host = forms.CharField(
        max_length=253, validators=[validate_host], help_text="Host name or IP address."
    )
    port = forms.IntegerField(min_value=1, max_value=65535, initial=22)
    user = forms.CharField(
        max_length=32,
        initial="root",
        validators=[validate_posix_user],
        help_text="root, or a user in the docker group (with sudo for installing Docker).",
    )
    ssh_key = forms.ModelChoiceField(queryset=SshKey.objects.none(), label="SSH key")
    labels = LabelsField(required=False, help_text="For example: web, eu, production")
    proxy_image = forms.CharField(
        max_length=255,
        required=False,
        label="Proxy image",
        help_text="The Caddy image bootstrap starts as the proxy; empty: "
        f"{settings.PANEL_PROXY_IMAGE}, the panel's default (PANEL_PROXY_IMAGE). Set one your "
        "server can pull.",
    )

    def __init__(self, *args: Any, team: Team, server: Server | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.team, self.server = team, server
        keys = SshKey.objects.filter(team=team)
        self.fields["ssh_key"].queryset = keys  # type: ignore[attr-defined]
        if server is None and (key := only_choice(keys)) is not None:
            self.initial.setdefault("ssh_key", key.pk)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        clash = Server.objects.filter(team=self.team, name=name)
        if self.server is not None:
            clash = clash.exclude(pk=self.server.pk)
        if clash.exists():
            raise ValidationError("Another server of this team has that name.")
        return name

    def clean_proxy_image(self) -> str:
        image: str = self.cleaned_data["proxy_image"].strip()
        if image:
            validate_image_reference(image)
        return image

    def server_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in SERVER_FIELDS}


class NewServerForm(ServerForm):
    expected_fingerprint = forms.CharField(
        required=False,
        max_length=100,
        label="Expected host key fingerprint",
        help_text="Optional: paste the SHA256:… line that ssh-keygen -lf "
        "/etc/ssh/ssh_host_ed25519_key.pub prints on the server, to trust the key at once.",
    )


class ConfirmHostKeyForm(forms.Form):
    fingerprint = forms.CharField(max_length=100, widget=forms.HiddenInput)
    checked = forms.BooleanField(
        required=False, label="I checked on the server that this is its key"
    )

    def __init__(self, *args: Any, mismatch: bool = False, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.mismatch = mismatch

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.mismatch and not data.get("checked"):
            raise forms.ValidationError(
                "The host presented another key than the one you gave: tick that you checked "
                "it on the server first."
            )
        return data


class KeyForm(forms.Form):
    name = forms.CharField(max_length=63, validators=[validate_name], help_text=NAME_RULES)
    private_key = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off"}),
        label="Private key to import",
        help_text="Leave empty to generate a new ed25519 key in the panel.",
    )
    passphrase = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Only for an encrypted key; it is not stored.",
    )

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.team = team

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if SshKey.objects.filter(team=self.team, name=name).exists():
            raise ValidationError("Another key of this team has that name.")
        return name


class ExecForm(forms.Form):
    servers = forms.ModelMultipleChoiceField(
        queryset=Server.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    command = forms.CharField(
        validators=[validate_exec_command],
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="Runs with sh -c as each server's SSH user; recorded in the audit history.",
    )

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["servers"].queryset = Server.objects.filter(team=team)  # type: ignore[attr-defined]
