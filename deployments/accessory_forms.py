"""Forms of accessories: adding one (with what it publishes), linking an app, unlinking, and
a command inside it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from deployments import accessory_links, accessory_reach
from deployments.accessory_kinds import KINDS, Kind
from deployments.forms import SecretTextarea, volumes_field
from deployments.models import Accessory, App
from deployments.validators import (
    name_values,
    validate_command,
    validate_container_file,
    validate_env_key,
)
from panel.forms import choose_from
from panel.models import Team
from panel.validators import validate_image_reference
from servers.models import Server
from servers.validators import validate_name

PUBLISH_CHOICES = [
    ("", "Nothing: only the panel network of its server"),
    (accessory_reach.ON_LOOPBACK, "The server's loopback (127.0.0.1): programs on the server"),
    (accessory_reach.ON_PRIVATE, "A private address: apps on other servers of that network"),
    (accessory_reach.ON_ALL, "Every address of the server, the internet included"),
]


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
        help_text="It runs on one server; apps on that server reach it over the panel's network.",
    )
    image = forms.CharField(
        max_length=255,
        required=False,
        validators=[validate_image_reference],
        help_text="Empty: the kind's own (postgres:17, mariadb:11.4, mysql:8.4, redis:7). "
        "Needed for any other image.",
    )
    port = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        help_text="The port it serves on (a known kind has its own).",
    )
    command = forms.CharField(
        max_length=1000,
        required=False,
        validators=[validate_command],
        help_text="Empty: the image's own.",
    )
    variables = forms.CharField(
        required=False,
        widget=SecretTextarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="NAME=value, one per line; stored encrypted, given through a 0600 file, "
        "never on a command line, and not shown again.",
    )
    volumes = volumes_field()
    ready_command = forms.CharField(
        max_length=1000,
        required=False,
        validators=[validate_command],
        label="Ready when",
        help_text="A command run inside it that succeeds once it is ready. Empty: ready once "
        "its port accepts connections.",
    )
    publish_on = forms.ChoiceField(
        choices=PUBLISH_CHOICES,
        required=False,
        label="Publish on",
        help_text="Docker's published ports bypass ufw and iptables INPUT rules: publish only "
        "what must be reached from outside the server.",
    )
    publish_address = forms.CharField(
        max_length=15, required=False, help_text="For a private address: the server's own."
    )
    publish_port = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=65535,
        help_text="The port on the server; empty: the same as its own.",
    )
    accept_everywhere = forms.BooleanField(
        required=False,
        label="I understand that every address means the internet too, whatever the firewall",
    )

    # How the page shows the fields: (title, fields, shown open unless nothing in it is set).
    GROUPS = (
        ("Accessory", ("name", "kind", "server", "image"), True),
        ("Any image", ("port", "command", "variables", "volumes", "ready_command"), False),
        ("Publish on the server", ("publish_on", "publish_address", "publish_port",
                                   "accept_everywhere"), False),
    )  # fmt: skip

    def groups(self) -> list[tuple[str, list[forms.BoundField], bool]]:
        custom = self["kind"].value() == "custom"
        return [
            (title, [self[name] for name in names], shown or custom or self._any(names))
            for title, names, shown in self.GROUPS
        ]

    def _any(self, names: tuple[str, ...]) -> bool:
        return any(self[name].value() or self[name].errors for name in names)

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.team = team
        choose_from(self, "server", Server.objects.filter(team=team))

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if Accessory.objects.filter(team=self.team, name=name).exists():
            raise ValidationError("Another accessory of this team has that name.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = KINDS.get(data.get("kind", ""), KINDS["custom"])
        if kind.key == "custom" and not data.get("image"):
            self.add_error("image", "Name the image to run.")
        port = kind.port or data.get("port") or 0
        data["publish"] = self._publish(data, port)
        data["port"] = port
        try:
            data["variables"] = name_values(data.get("variables") or "")
        except ValidationError as error:
            self.add_error("variables", error)
        return data

    def _publish(self, data: dict[str, Any], port: int) -> list[str]:
        on = data.get("publish_on", "")
        if not on:
            return []
        if not port:
            self.add_error("port", "Say which port it serves on to publish it.")
            return []
        if on == accessory_reach.ON_ALL and not data.get("accept_everywhere"):
            self.add_error("accept_everywhere", "Tick this to publish on every address.")
            return []
        try:
            published = accessory_reach.publish_for(
                on, data.get("publish_address", ""), data.get("publish_port") or port, port
            )
        except ValidationError as error:
            self.add_error("publish_address" if on == "private" else "publish_port", error)
            return []
        return [published.docker]


class LinkForm(forms.Form):
    app = forms.ModelChoiceField(queryset=App.objects.none())
    variable = forms.CharField(
        max_length=128,
        validators=[validate_env_key],
        help_text="The app's secret variable that holds the URL.",
    )
    database = forms.CharField(
        max_length=32,
        required=False,
        validators=[accessory_links.validate_identifier],
        help_text="Empty: the app's name (dashes become _). Created if it is not there.",
    )
    user = forms.CharField(
        max_length=32,
        required=False,
        validators=[accessory_links.validate_identifier],
        help_text="Empty: the app's name. Its password is generated.",
    )

    def __init__(self, *args: Any, accessory: Accessory, kind: Kind, **kw: Any) -> None:
        super().__init__(*args, **kw)
        choose_from(self, "app", App.objects.filter(team=accessory.team_id))
        self.initial.setdefault("variable", accessory_links.VARIABLES.get(kind.engine, ""))
        if kind.engine == "redis":
            self.fields["database"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if app := data.get("app"):
            name = accessory_links.identifier_for(app.name)
            data["database"] = data.get("database") or name
            data["user"] = data.get("user") or name
        return data


class UnlinkForm(forms.Form):
    drop = forms.BooleanField(required=False, label="Also drop its database and user")
    confirm = forms.CharField(required=False, max_length=32, label="To drop them, type its name")

    def __init__(self, *args: Any, database: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.database = database

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("drop") and data.get("confirm") != self.database:
            self.add_error("confirm", f"Type {self.database} to drop its data.")
        return data


class AccessoryFileForm(forms.Form):
    path = forms.CharField(
        max_length=255,
        validators=[validate_container_file],
        label="Path inside",
        help_text="Mounted read-only there, e.g. /etc/app/config.toml.",
    )
    content = forms.CharField(
        max_length=65536,
        strip=False,
        widget=SecretTextarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="Stored encrypted; written over SFTP before it starts.",
    )
    secret = forms.BooleanField(
        required=False,
        help_text="Written 0600 instead of 0644, and its content never shown again.",
    )


class AccessoryExecForm(forms.Form):
    command = forms.CharField(
        max_length=4096,
        validators=[validate_command],
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Runs inside the running accessory with its variables set (psql -U postgres "
        "-c 'SELECT 1'); split like a shell would, without a shell. Recorded in the audit "
        "history; its passwords are masked in the output.",
    )


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
