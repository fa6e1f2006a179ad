from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from deployments.models import App
from deployments.validators import (
    name_values,
    validate_command,
    validate_domain,
    validate_env_key,
    validate_git_ref,
    validate_git_url,
    validate_health_path,
    validate_repo_path,
    validate_role_name,
    validate_tag,
    validate_volume,
)
from panel.fields import is_set
from panel.forms import current_data, form_data, only_choice
from panel.models import Team
from panel.validators import validate_image_reference
from servers.models import Server, SshKey
from servers.validators import validate_name

MAX_ENV_VALUE = 256 * 1024
# The App fields the form edits as they are (roles and the password are handled apart).
APP_SETTINGS = (
    "name", "image", "registry_username", "domains", "container_port", "health_path",
    "health_interval", "health_timeout", "deploy_timeout", "drain_timeout", "stop_timeout",
    "retain_releases", "volumes", "pre_deploy_command", "post_deploy_command", "tls",
    "redirect_http", "git_url", "git_branch", "git_key", "dockerfile", "build_context",
    "build_server",
)  # fmt: skip


class ListField(forms.CharField):
    """Items separated by commas, spaces or lines, each checked by `item_validator`."""

    def __init__(
        self, *args: Any, item_validator: Any, separators: str = ", \n", **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.item_validator, self.separators = item_validator, separators

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        for separator in self.separators[1:]:
            text = text.replace(separator, self.separators[0])
        items = [item.strip() for item in text.split(self.separators[0]) if item.strip()]
        for item in items:
            self.item_validator(item)
        return list(dict.fromkeys(items))

    def prepare_value(self, value: Any) -> Any:
        joiner = "\n" if "\n" in self.separators and self.separators[0] == "\n" else ", "
        return joiner.join(value) if isinstance(value, list) else value


def volumes_field() -> ListField:
    """Volumes of a container, one per line, each checked."""
    return ListField(
        item_validator=validate_volume,
        separators="\n,",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: name:/path or /host/path:/path (:ro allowed).",
    )


class SecretTextarea(forms.Textarea):
    """A textarea whose value is never written back into the page."""

    def format_value(self, value: Any) -> str | None:
        return None


SECRET_HELP = {
    "registry_password": "The registry's password, for the user above.",
    "git_token": "For a private https repository.",
    "build_args": "NAME=value per line, for the Dockerfile's ARG; redacted from logs, but "
    "Docker keeps build arguments in the image history: give secrets to the build as build "
    "secrets (Environment page).",
}


def _secret_help(app: App | None, name: str, kept: bool) -> str:
    """What the field holds, said without showing it."""
    if kept:
        state = "What you typed before is kept (not shown); type again to replace it."
    elif app is not None and is_set(app, name):
        state = "One is stored (encrypted, not shown); leave empty to keep it."
    else:
        state = "None is stored; it is stored encrypted and never shown."
    return f"{SECRET_HELP[name]} {state}"


class AppForm(forms.ModelForm):  # type: ignore[type-arg]
    """The app's settings; its roles come in a RoleFormSet beside it."""

    name = forms.CharField(
        max_length=40,
        validators=[validate_name],
        help_text="Lowercase letters, digits and dashes (shop, api-2): it names the app's "
        "containers on the servers.",
    )
    image = forms.CharField(
        max_length=255,
        validators=[validate_image_reference],
        help_text="Repository without the tag, e.g. registry.example.com/team/shop.",
    )
    registry_username = forms.CharField(max_length=100, required=False)
    registry_password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False)
    )
    domains = ListField(
        item_validator=validate_domain,
        required=False,
        help_text="Host names the proxy routes to this app.",
    )
    container_port = forms.IntegerField(min_value=1, max_value=65535, initial=80)
    health_path = forms.CharField(max_length=200, initial="/up", validators=[validate_health_path])
    health_interval = forms.FloatField(
        min_value=0.1, max_value=60, initial=1.0, label="Health check every (seconds)"
    )
    health_timeout = forms.FloatField(
        min_value=0.1, max_value=60, initial=5.0, label="Health check answer within (seconds)"
    )
    deploy_timeout = forms.IntegerField(
        min_value=1,
        max_value=3600,
        initial=30,
        label="Deploy timeout (seconds)",
        help_text="How long a new container has to become healthy.",
    )
    drain_timeout = forms.IntegerField(
        min_value=0,
        max_value=600,
        initial=5,
        label="Drain timeout (seconds)",
        help_text="How long the old container keeps finishing requests after the switch.",
    )
    stop_timeout = forms.IntegerField(
        min_value=0, max_value=600, initial=10, label="Stop timeout (seconds)"
    )
    retain_releases = forms.IntegerField(min_value=1, max_value=50, initial=5)
    volumes = volumes_field()

    git_url = forms.CharField(
        max_length=500,
        required=False,
        label="Git repository",
        help_text="Build from source instead of pulling a ready image: https://…, ssh://… or "
        "git@host:path. The image above then names what the build is tagged as.",
    )
    git_branch = forms.CharField(
        max_length=200,
        required=False,
        initial="main",
        validators=[validate_git_ref],
        label="Branch",
    )
    git_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        label="HTTPS token",
    )
    git_key = forms.ModelChoiceField(
        queryset=SshKey.objects.none(),
        required=False,
        label="Deploy key",
        help_text="For ssh repositories: add its public key to the repository as a deploy key.",
    )
    dockerfile = forms.CharField(
        max_length=300, initial="Dockerfile", required=False, validators=[validate_repo_path]
    )
    build_server = forms.ModelChoiceField(
        queryset=Server.objects.none(),
        required=False,
        label="Build server",
        help_text="Where images are built; empty: the first web server.",
    )
    build_args = forms.CharField(
        required=False,
        max_length=64 * 1024,
        label="Build arguments",
        widget=SecretTextarea(attrs={"rows": 2, "spellcheck": "false", "autocomplete": "off"}),
    )
    build_context = forms.CharField(
        max_length=300,
        required=False,
        validators=[validate_repo_path],
        help_text="A folder of the repository; empty: all of it.",
    )
    tls = forms.BooleanField(
        required=False,
        label="HTTPS",
        help_text="The proxy gets a certificate for each domain and serves it on port 443.",
    )
    redirect_http = forms.BooleanField(required=False, initial=True, label="Redirect HTTP to HTTPS")
    pre_deploy_command = forms.CharField(
        max_length=1000,
        required=False,
        validators=[validate_command],
        label="Pre-deploy command",
        help_text="Runs in a one-off container of the new release before it starts (e.g. "
        "migrations). If it fails, nothing is switched.",
    )
    post_deploy_command = forms.CharField(
        max_length=1000,
        required=False,
        validators=[validate_command],
        label="Post-deploy command",
        help_text="Runs in a one-off container of the new release once it is live.",
    )

    SECRET_FIELDS = ("registry_password", "git_token", "build_args")

    class Meta:
        model = App
        fields = APP_SETTINGS

    # How the page shows the fields: (title, fields, shown open); roles come after the first
    # two groups. Building from git is folded away until an app uses it.
    GROUPS = (
        ("Image", ("name", "image", "registry_username", "registry_password"), True),
        ("Domains and HTTPS", ("domains", "tls", "redirect_http"), True),
        ("Build from git instead", ("git_url", "git_branch", "git_token", "git_key",
                                    "dockerfile", "build_context", "build_server",
                                    "build_args"), False),
        ("Health check and timeouts", ("container_port", "health_path", "health_interval",
                                       "health_timeout", "deploy_timeout", "drain_timeout",
                                       "stop_timeout"), True),
        ("Releases, volumes and commands", ("retain_releases", "volumes", "pre_deploy_command",
                                            "post_deploy_command"), True),
    )  # fmt: skip

    def groups(self) -> list[tuple[str, list[forms.BoundField], bool]]:
        building = bool(self["git_url"].value())
        return [
            (title, [self[name] for name in names], shown or building)
            for title, names, shown in self.GROUPS
        ]

    def __init__(
        self,
        data: Any = None,
        *,
        team: Team,
        app: App | None = None,
        kept: set[str] | None = None,
    ) -> None:
        super().__init__(data, instance=app or App(team=team))
        if app is None:  # a redirect is only asked for once HTTPS is
            self.initial["redirect_http"] = False
        for name in self.SECRET_FIELDS:
            self.fields[name].help_text = _secret_help(app, name, name in (kept or set()))
        self.team, self.app = team, app
        _choices(self.fields["git_key"], SshKey.objects.filter(team=team))
        _choices(self.fields["build_server"], Server.objects.filter(team=team))

    def clean_build_args(self) -> str:
        text: str = self.cleaned_data["build_args"]
        name_values(text)
        return text

    def clean_dockerfile(self) -> str:
        return str(self.cleaned_data["dockerfile"]).strip() or "Dockerfile"

    def clean_git_branch(self) -> str:
        return str(self.cleaned_data["git_branch"]).strip() or "main"

    def clean_git_url(self) -> str:
        url: str = self.cleaned_data["git_url"].strip()
        if url:
            validate_git_url(url, allow_local=settings.PANEL_GIT_ALLOW_LOCAL)
        return url

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        clash = App.objects.filter(team=self.team, name=name)
        if self.app is not None:
            clash = clash.exclude(pk=self.app.pk)
        if clash.exists():
            raise ValidationError("Another app of this team has that name.")
        return name

    def clean_domains(self) -> list[str]:
        domains: list[str] = [d.lower().rstrip(".") for d in self.cleaned_data["domains"]]
        others = App.objects.exclude(pk=self.app.pk) if self.app else App.objects.all()
        for other in others.only("name", "domains", "team"):
            taken = set(domains) & set(other.domains)
            if taken:
                owner = other.name if other.team_id == self.team.pk else "another team's app"
                raise ValidationError(f"{', '.join(sorted(taken))} already routes to {owner}.")
        return domains

    def app_fields(self) -> dict[str, Any]:
        names = (*APP_SETTINGS, "registry_password", "git_token", "build_args")
        return {name: self.cleaned_data[name] for name in names}


class RoleForm(forms.Form):
    name = forms.CharField(
        max_length=31,
        required=False,
        validators=[validate_role_name],
        label="Role",
    )
    servers = forms.ModelMultipleChoiceField(
        queryset=Server.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    command = forms.CharField(
        max_length=1000,
        required=False,
        validators=[validate_command],
        help_text="Empty: the image's own.",
    )

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        _choices(self.fields["servers"], Server.objects.filter(team=team))

    def has_changed(self) -> bool:
        # A named row counts even when it is as it was shown (web on the only server).
        return bool(self.data.get(self.add_prefix("name"))) or super().has_changed()


class BaseRoleFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        seen: set[str] = set()
        for form in self.forms:
            if not form.is_valid() or form.cleaned_data.get("DELETE"):
                continue
            name = form.cleaned_data.get("name", "")
            if not name:
                if form.cleaned_data.get("servers") or form.cleaned_data.get("command"):
                    form.add_error("name", "Name the role that runs on these servers.")
                continue
            if name in seen:
                form.add_error("name", f"There is already a role named {name}.")
            seen.add(name)

    def roles(self) -> dict[str, dict[str, Any]]:
        """Role name → its servers and command, for the services."""
        return {
            form.cleaned_data["name"]: {
                "servers": list(form.cleaned_data["servers"]),
                "command": form.cleaned_data["command"],
            }
            for form in self.forms
            if form.cleaned_data.get("name") and not form.cleaned_data.get("DELETE")
        }


RoleFormSet = forms.formset_factory(
    RoleForm, formset=BaseRoleFormSet, extra=1, can_delete=True, max_num=20
)


def role_formset(data: Any, team: Team, app: App | None) -> BaseRoleFormSet:
    """The app's roles (a new app starts with web), and one empty row to add another."""
    if app is not None:
        initial = [
            {"name": role.name, "servers": list(role.servers.all()), "command": role.command}
            for role in app.roles.prefetch_related("servers")
        ]
    else:
        server = only_choice(Server.objects.filter(team=team))
        initial = [{"name": "web", "servers": [server] if server is not None else []}]
    formset = RoleFormSet(data, initial=initial, prefix="roles", form_kwargs={"team": team})
    return cast(BaseRoleFormSet, formset)


def app_forms(
    team: Team, app: App | None, values: dict[str, Any], roles: list[dict[str, Any]] | None
) -> tuple[AppForm, BaseRoleFormSet]:
    """The page's form and role formset, bound to the app's values with `values` over them
    (as posted: keys of choices, not names) and `roles` (name, servers' keys, command) in
    place of its roles; None keeps them."""
    data = {**current_data(AppForm(team=team, app=app)), **form_data(values)}
    return AppForm(data, team=team, app=app), role_formset(_role_data(app, roles), team, app)


def _role_data(app: App | None, roles: list[dict[str, Any]] | None) -> dict[str, Any]:
    if roles is None:
        current = app.roles.prefetch_related("servers") if app else []
        roles = [
            {"name": r.name, "servers": [s.pk for s in r.servers.all()], "command": r.command}
            for r in current
        ] or [{"name": "web", "servers": [], "command": ""}]
    data: dict[str, Any] = {"roles-TOTAL_FORMS": str(len(roles)), "roles-INITIAL_FORMS": "0"}
    for index, role in enumerate(roles):
        data[f"roles-{index}-name"] = role["name"]
        data[f"roles-{index}-servers"] = list(role.get("servers", []))
        data[f"roles-{index}-command"] = role.get("command", "")
    return data


def formset_problems(formset: forms.BaseFormSet) -> str:  # type: ignore[type-arg]
    return " ".join(
        str(text) for form in formset.forms for texts in form.errors.values() for text in texts
    )


def _choices(field: forms.Field, queryset: Any) -> None:
    field.queryset = queryset  # type: ignore[attr-defined]


class EnvForm(forms.Form):
    key = forms.CharField(
        max_length=128,
        label="Name",
        validators=[validate_env_key],
        help_text="Letters, digits and _, not starting with a digit (DATABASE_URL).",
    )
    value = forms.CharField(
        required=False,
        strip=False,
        max_length=MAX_ENV_VALUE,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false"}),
    )
    secret = forms.BooleanField(required=False, help_text="Secret values are never shown again.")
    role = forms.CharField(
        max_length=31,
        required=False,
        validators=[validate_role_name],
        help_text="Empty: every role.",
    )
    use = forms.ChoiceField(
        label="For",
        required=False,
        choices=[
            ("containers", "Containers"),
            ("build", "The build only (a build secret)"),
            ("both", "Containers and the build"),
        ],
        help_text=(
            "Builds from git read a build secret with RUN --mount=type=secret,id=NAME; it stays "
            "out of the image, is always secret, and belongs to the whole app."
        ),
    )

    def clean_value(self) -> str:
        value: str = self.cleaned_data["value"]
        if "\x00" in value:
            raise ValidationError("A value cannot contain a NUL character.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        use = data.get("use") or "containers"
        data["for_containers"] = use in ("containers", "both")
        data["for_build"] = use in ("build", "both")
        if data["for_build"]:
            if data.get("role"):
                self.add_error("role", "A build secret belongs to the whole app: leave it empty.")
            data["secret"] = True
        return data


PLAN_NONCE = forms.RegexField(
    regex=r"^[0-9a-f]{6}$", required=False, widget=forms.HiddenInput, label="Plan"
)


class DeployForm(forms.Form):
    version = forms.CharField(max_length=128, validators=[validate_tag], label="Image tag")
    plan = PLAN_NONCE


class GitDeployForm(forms.Form):
    version = forms.CharField(
        max_length=200, required=False, validators=[validate_git_ref], label="Branch, tag or commit"
    )
    plan = PLAN_NONCE


class AppExecForm(forms.Form):
    command = forms.CharField(
        max_length=4096,
        validators=[validate_command],
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Split like a shell would and run without a shell: for pipes, write "
        "sh -c '…'. Recorded in the audit history.",
    )
    mode = forms.ChoiceField(
        choices=[
            ("new", "In a new container of the live release"),
            ("running", "In a running container"),
        ],
        initial="new",
        widget=forms.RadioSelect,
    )

    def clean_command(self) -> str:
        command: str = self.cleaned_data["command"]
        if not command.strip():
            raise ValidationError("Enter a command.")
        return command
