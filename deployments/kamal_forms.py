"""Checking an import before anything is created: every secret filled in, the hosts real
addresses, and the app through the same form as its page (names, domains, volumes…)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from deployments import accessory_reach
from deployments.accessory_kinds import KINDS
from deployments.forms import MAX_ENV_VALUE, SecretTextarea, app_forms, formset_problems
from deployments.kamal import loading, mapping, secrets_file
from deployments.kamal.mapping import Plan, fill
from deployments.kamal_services import app_fields
from deployments.models import Accessory
from deployments.validators import (
    validate_command,
    validate_env_key,
    validate_role_name,
    validate_volume,
)
from panel.forms import choose_from
from panel.models import Team
from panel.validators import validate_image_reference
from servers.models import SshKey
from servers.validators import validate_host, validate_name


class ImportRefused(ValueError):
    """What must be put right before the import can create anything, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def read(deploy: str, destination: str = "", secrets: str = "") -> tuple[Plan, dict[str, str]]:
    """The plan, and the secret values the secrets file gives as they are (the ones Kamal
    would compute are left to fill in, their source shown)."""
    plan = mapping.plan(loading.load(deploy, destination))
    given = secrets_file.read(secrets)
    values: dict[str, str] = {}
    for needed in plan.review.secrets:
        line = given.get(needed.name)
        if line is not None and line.value is not None:
            values[needed.name] = line.value
        elif line is not None:
            needed.source = line.source
    return plan, values


def check(
    team: Team, plan: Plan, secrets: dict[str, str], ssh_key: SshKey | None
) -> tuple[Plan, dict[str, Any], dict[str, dict[str, Any]]]:
    """The plan with its addresses filled in, the app's fields and its roles, as the form
    cleaned them; or ImportRefused naming every problem."""
    problems = [
        f"Fill in {needed.name} (used at {', '.join(needed.used_at)})."
        for needed in plan.review.secrets
        if not secrets.get(needed.name)
    ]
    if ssh_key is None:
        problems.append("Choose the SSH key the new servers are reached with (Keys → Add).")
    plan = _addresses_filled(plan, secrets)
    for host in plan.hosts:
        try:
            validate_host(host.address)
        except ValidationError as invalid:
            problems.append(f"Host {host.address!r}: {' '.join(invalid.messages)}")
    for accessory in plan.accessories:
        problems += _accessory_problems(team, accessory)
    problems += _variable_problems(plan, secrets)
    roles = [{"name": name, "servers": [], "command": role["command"]}
             for name, role in plan.roles.items()]  # fmt: skip
    form, formset = app_forms(team, None, app_fields(plan, secrets), roles)
    if not form.is_valid():
        problems += [f"{name}: {' '.join(map(str, texts))}" for name, texts in form.errors.items()]
    if not formset.is_valid():
        problems.append(f"roles: {formset_problems(formset)}")
    if problems:
        raise ImportRefused(problems)
    return plan, form.app_fields(), formset.roles()


def _addresses_filled(plan: Plan, secrets: dict[str, str]) -> Plan:
    hosts = [replace(host, address=fill(host.address, secrets)) for host in plan.hosts]
    roles = {name: {**role, "hosts": fill(role["hosts"], secrets)}
             for name, role in plan.roles.items()}  # fmt: skip
    accessories = [replace(a, host=fill(a.host, secrets)) for a in plan.accessories]
    return replace(plan, hosts=hosts, roles=roles, accessories=accessories)


def _variable_problems(plan: Plan, secrets: dict[str, str]) -> list[str]:
    """Names and values as the Environment page takes them."""
    problems = []
    variables = [*plan.variables, *(v for a in plan.accessories for v in a.variables)]
    for variable in variables:
        value = mapping.value_of(variable, secrets)
        checks = [(validate_env_key, variable.key)]
        if variable.role:
            checks.append((validate_role_name, variable.role))
        for check_one, text in checks:
            problems += _refusals(f"Variable {variable.key!r}", check_one, text)
        if "\x00" in value or len(value) > MAX_ENV_VALUE:
            problems.append(f"Variable {variable.key!r}: a NUL character, or longer than 256 KiB.")
    return problems


def _refusals(what: str, check_one: Any, value: Any) -> list[str]:
    try:
        check_one(value)
    except ValidationError as invalid:
        return [f"{what}: {' '.join(invalid.messages)}"]
    return []


def _accessory_problems(team: Team, accessory: mapping.AccessoryPlan) -> list[str]:
    """What the accessory's own page would refuse."""
    what = f"Accessory {accessory.name!r}"
    checks: list[tuple[Any, Any]] = [(validate_name, accessory.name),
                                     (validate_image_reference, accessory.image)]  # fmt: skip
    if accessory.command:
        checks.append((validate_command, accessory.command))
    checks += [(validate_volume, volume) for volume in accessory.volumes]
    checks += [(_published, value) for value in accessory.publish]
    problems = [text for check_one, value in checks for text in _refusals(what, check_one, value)]
    if Accessory.objects.filter(team=team, name=accessory.name).exists():
        problems.append(f"Accessory {accessory.name!r}: the team has one of that name already.")
    if accessory.kind not in KINDS:
        problems.append(f"{what}: unknown kind {accessory.kind}.")
    return problems


def _published(value: str) -> None:
    """As the accessory's page publishes: the loopback or a private address; every address
    only when chosen there, with its warning."""
    try:
        wanted = accessory_reach.parse(value)
    except ValueError as failure:
        raise ValidationError(f"{value!r} is not ADDRESS:HOST_PORT:PORT.") from failure
    if wanted.address == accessory_reach.EVERYWHERE:
        raise ValidationError("publishing on every address is chosen on the accessory's page.")
    on = (
        accessory_reach.ON_LOOPBACK
        if wanted.address == accessory_reach.LOOPBACK
        else (accessory_reach.ON_PRIVATE)
    )
    accessory_reach.publish_for(on, wanted.address, wanted.host_port, wanted.port)


MAX_TEXT = 512 * 1024


class KamalSourceForm(forms.Form):
    deploy = forms.CharField(
        label="config/deploy.yml",
        max_length=MAX_TEXT,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "code"}),
        help_text="Paste the file. ERB (<%= … %>) is never run: what it reads becomes a "
        "secret you fill in on the next page.",
    )
    destination = forms.CharField(
        label="config/deploy.<destination>.yml (optional)",
        max_length=MAX_TEXT,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"}),
        help_text="Merged over the file above the way Kamal merges it.",
    )


class KamalSecretsForm(forms.Form):
    """The secrets a configuration needs, one password field each, and a dotenv paste box;
    a field typed wins over the pasted file."""

    dotenv = forms.CharField(
        label="Or paste a dotenv file (.kamal/secrets with its values)",
        required=False,
        max_length=MAX_TEXT,
        widget=SecretTextarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
    )
    ssh_key = forms.ModelChoiceField(
        queryset=SshKey.objects.none(),
        label="SSH key for new servers",
        help_text="The servers this configuration names that the team does not have yet are "
        "added with it; confirm each one's host key on its page.",
    )

    def __init__(self, *args: Any, team: Team, plan: Plan, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.plan = plan
        choose_from(self, "ssh_key", SshKey.objects.filter(team=team))
        for needed in plan.review.secrets:
            self.fields[f"secret_{needed.name}"] = forms.CharField(
                label=needed.name,
                required=False,
                max_length=64 * 1024,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=f"Used at {', '.join(needed.used_at)}."
                + (f" Kamal computes it with {needed.source}: fill in the value." if needed.source
                   else ""),
            )  # fmt: skip

        self.order_fields([*(f"secret_{s.name}" for s in plan.review.secrets), "dotenv"])

    def values(self) -> dict[str, str]:
        pasted = secrets_file.read(self.cleaned_data.get("dotenv") or "")
        values = {name: line.value for name, line in pasted.items() if line.value is not None}
        for needed in self.plan.review.secrets:
            typed = self.cleaned_data.get(f"secret_{needed.name}")
            if typed:
                values[needed.name] = typed
        return values
