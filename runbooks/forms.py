from __future__ import annotations

import re
from typing import Any

from django import forms

from deployments.models import Accessory, App
from panel.forms import schedule_field
from panel.models import Team
from runbooks.steps import Step, parse
from servers.models import Server
from servers.validators import validate_name

SECRET_LINE = re.compile(r"^([A-Z][A-Z0-9_]{0,63})=(.*)$")


class RunbookForm(forms.Form):
    name = forms.CharField(max_length=63, validators=[validate_name])
    description = forms.CharField(max_length=300, required=False)
    steps = forms.CharField(
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
        help_text="YAML, a step a line starting with '- ': check (a person confirms; role: "
                  "admin), run (on: [server…]), http (METHOD URL; headers, body; ${NAME} "
                  "from the secrets below), wait (seconds), deploy, backup, upgrade (image:), "
                  "reboot (if_required: true).",
    )  # fmt: skip
    schedule = schedule_field("0 4 * * 0", "Sundays at 04:00 UTC", "it runs when started")
    secrets = forms.CharField(
        required=False, max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text="NAME=value, a line each; the values are encrypted and never shown again. "
                  "NAME= with nothing after it removes one.",
    )  # fmt: skip
    allow_internal = forms.BooleanField(
        required=False, label="HTTP steps may reach the panel's own machine, link-local "
        "(cloud metadata) addresses and the panel's database",
    )  # fmt: skip

    def __init__(self, *args: Any, team: Team, kept: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team, self.kept = team, kept

    def clean_steps(self) -> list[Step]:
        steps = parse(self.cleaned_data["steps"])
        missing = _missing_names(self.team, steps)
        if missing:
            raise forms.ValidationError(missing)
        return steps

    def clean_secrets(self) -> dict[str, str]:
        found, errors = {}, []
        for number, line in enumerate(self.cleaned_data["secrets"].splitlines(), start=1):
            if not line.strip():
                continue
            match = SECRET_LINE.match(line.strip())
            if match is None:
                errors.append(f"Line {number}: write NAME=value (NAME in capitals, digits, _).")
            else:
                found[match.group(1)] = match.group(2)
        if errors:
            raise forms.ValidationError(errors)
        return found

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        steps, secrets = cleaned.get("steps"), cleaned.get("secrets")
        if steps is not None and secrets is not None:
            named = {name for step in steps for name in step.secrets()}
            have = {k for k in self.kept | set(secrets) if secrets.get(k, "x")}
            if named - have:
                self.add_error("secrets", "The steps name secrets that are not set: "
                               + ", ".join(sorted(named - have)))  # fmt: skip
        return cleaned


def _missing_names(team: Team, steps: list[Step]) -> list[str]:
    wanted = {
        "server": {s for step in steps for s in step.servers}
        | {step.target for step in steps if step.kind == "reboot"},
        "app": {step.target for step in steps if step.kind == "deploy"},
        "accessory": {step.target for step in steps if step.kind in ("backup", "upgrade")},
    }
    models = {"server": Server, "app": App, "accessory": Accessory}
    errors = []
    for what, names in wanted.items():
        known = set(models[what].objects.filter(team=team, name__in=names)  # type: ignore[attr-defined]
                    .values_list("name", flat=True))  # fmt: skip
        errors += [f"No {what} named {name} in this team." for name in sorted(names - known)]
    return errors
