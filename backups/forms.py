"""The form that adds a backup repository: a folder on a server, or S3-compatible storage."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from backups.models import Repository, RepositoryKind
from backups.validators import (
    validate_access_key,
    validate_bucket,
    validate_endpoint,
    validate_folder,
    validate_prefix,
    validate_region,
    validate_schedule,
)
from deployments.accessory_links import validate_identifier
from deployments.forms import SecretTextarea
from panel.forms import choose_from
from panel.models import Team
from panel.validators import validate_image_reference
from servers.models import Server
from servers.validators import validate_name


class RepositoryForm(forms.Form):
    name = forms.CharField(max_length=40, validators=[validate_name])
    kind = forms.ChoiceField(choices=RepositoryKind.choices, label="Where")
    server = forms.ModelChoiceField(
        queryset=Server.objects.none(),
        required=False,
        help_text="A folder: the server it is on; it holds backups of that server only. SFTP: "
        "the server that holds it; every other server reaches it with a key of its own, "
        "allowed SFTP only there.",
    )
    folder = forms.CharField(max_length=255, required=False, validators=[validate_folder])
    endpoint = forms.CharField(
        max_length=255,
        required=False,
        validators=[validate_endpoint],
        help_text="S3: https://s3.eu-west-1.amazonaws.com, https://<account>.r2.cloudflarestorage.com…",
    )
    bucket = forms.CharField(max_length=63, required=False, validators=[validate_bucket])
    bucket_folder = forms.CharField(
        max_length=200, required=False, validators=[validate_prefix], label="Folder in the bucket"
    )
    region = forms.CharField(max_length=40, required=False, validators=[validate_region])
    access_key = forms.CharField(max_length=128, required=False, validators=[validate_access_key])
    secret_key = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), label="Secret key"
    )
    password = forms.CharField(
        required=False,
        widget=SecretTextarea(attrs={"rows": 1}),
        label="Password of an existing repository",
        help_text="Empty: a new repository with a generated password. Given: the repository "
        "there is opened as it is, never made again.",
    )
    image = forms.CharField(
        max_length=255,
        initial="restic/restic:0.17.3",
        validators=[validate_image_reference],
        label="restic image",
        help_text="restic runs in a container on the server being backed up.",
    )

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.team = team
        choose_from(self, "server", Server.objects.filter(team=team))

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if Repository.objects.filter(team=self.team, name=name).exists():
            raise ValidationError("Another repository of this team has that name.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        server = data.get("server")
        if data.get("kind") == RepositoryKind.SFTP and server and not server.host_key:
            self.add_error("server", "Trust this server's host key first (open the server).")
        needed = (
            ("server", "folder")
            if data.get("kind") in (RepositoryKind.LOCAL, RepositoryKind.SFTP)
            else ("endpoint", "bucket", "access_key", "secret_key")
        )
        for name in needed:
            if not data.get(name) and name not in self.errors:
                self.add_error(name, "Needed for this kind of repository.")
        return data


class BackupNowForm(forms.Form):
    repository = forms.ModelChoiceField(queryset=Repository.objects.none())

    def __init__(self, *args: Any, team_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        choose_from(self, "repository", Repository.objects.filter(team_id=team_id))


class UpgradeForm(forms.Form):
    image = forms.CharField(
        max_length=255,
        validators=[validate_image_reference],
        label="New image",
        help_text="A new tag of the same engine (postgres:17.2). A PostgreSQL major version goes "
        "by dump and restore, with writes refused meanwhile, and keeps the old data.",
    )
    repository = forms.ModelChoiceField(
        queryset=Repository.objects.none(),
        required=False,
        label="Back up first to",
        help_text="The upgrade starts with a backup; when it fails, nothing changes.",
    )

    def __init__(self, *args: Any, team_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        choose_from(self, "repository", Repository.objects.filter(team_id=team_id))


KEEP = ("keep_last", "keep_daily", "keep_weekly", "keep_monthly")


class PolicyForm(forms.Form):
    schedule = forms.CharField(
        max_length=100,
        initial="0 3 * * *",
        validators=[validate_schedule],
        help_text="Cron, in the panel's time zone: minute hour day month weekday (0 3 * * * is "
        "every day at 03:00).",
    )
    repositories = forms.ModelMultipleChoiceField(
        queryset=Repository.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Two or more, one of them off the server, make 3-2-1.",
    )
    keep_last = forms.IntegerField(min_value=0, max_value=1000, initial=7)
    keep_daily = forms.IntegerField(min_value=0, max_value=1000, initial=7)
    keep_weekly = forms.IntegerField(min_value=0, max_value=1000, initial=4)
    keep_monthly = forms.IntegerField(min_value=0, max_value=1000, initial=6)
    timeout_minutes = forms.IntegerField(
        min_value=1, max_value=48 * 60, initial=360, label="Timeout (minutes)",
        help_text="A backup that runs longer is stopped and said to have failed.",
    )  # fmt: skip
    verify_schedule = forms.CharField(
        label="Verify restore",
        max_length=100,
        required=False,
        initial="0 5 * * 0",
        validators=[validate_schedule],
        help_text="Cron: when its latest backup is restored into a throwaway copy and its rows "
        "compared with those counted when it was made (0 5 * * 0 is Sundays at 05:00). Empty: "
        "only when someone clicks.",
    )

    check_database = forms.CharField(
        max_length=30, required=False, validators=[validate_identifier],
        label="Check in database", help_text="Optional: a database of the restored copy …",
    )  # fmt: skip
    check_query = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="… this query",
        help_text="… which must print what follows (SELECT count(*) FROM orders WHERE paid).",
    )  # fmt: skip
    check_expected = forms.CharField(max_length=1000, required=False, label="Expected output")

    def __init__(self, *args: Any, team_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["repositories"].queryset = Repository.objects.filter(  # type: ignore[attr-defined]
            team_id=team_id
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        server = data.get("server")
        if data.get("kind") == RepositoryKind.SFTP and server and not server.host_key:
            self.add_error("server", "Trust this server's host key first (open the server).")
        if not any(data.get(f"keep_{name}") for name in ("last", "daily", "weekly", "monthly")):
            self.add_error("keep_last", "Keep at least one snapshot.")
        given = [
            bool(data.get(name)) for name in ("check_database", "check_query", "check_expected")
        ]
        if any(given) and not all(given):
            self.add_error("check_query", "A check needs its database, its query and its output.")
        return data

    def policy_options(self) -> dict[str, Any]:
        """The cleaned fields as `services.create_policy` takes them."""
        data = self.cleaned_data
        return {
            "schedule": data["schedule"],
            "verify_schedule": data["verify_schedule"],
            "timeout_minutes": data["timeout_minutes"],
            "check": (data["check_database"], data["check_query"], data["check_expected"]),
            "repositories": list(data["repositories"]),
            "keep": {name: data[name] for name in KEEP},
        }


class PanelPolicyForm(forms.Form):
    repository = forms.ModelChoiceField(queryset=Repository.objects.none())
    server = forms.ModelChoiceField(
        queryset=Server.objects.none(),
        label="Through",
        help_text="restic runs on this server; the database reaches it over SSH. For a folder "
        "repository, its own server.",
    )
    schedule = forms.CharField(max_length=100, initial="30 2 * * *", validators=[validate_schedule])
    keep_last = forms.IntegerField(min_value=0, max_value=1000, initial=7)
    keep_daily = forms.IntegerField(min_value=0, max_value=1000, initial=14)

    def __init__(self, *args: Any, team_id: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        choose_from(self, "repository", Repository.objects.filter(team_id=team_id))
        choose_from(self, "server", Server.objects.filter(team_id=team_id))
