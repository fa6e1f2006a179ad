"""The forms that add a notification channel, an alert rule and an uptime check."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from deployments.forms import SecretTextarea
from monitoring.conditions import DEFAULTS, PERCENT_KINDS
from monitoring.models import AlertKind, Channel
from monitoring.validators import validate_check_url
from panel.models import Team
from servers.models import Server
from servers.validators import validate_name


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=40, validators=[validate_name])
    url = forms.CharField(
        max_length=2000,
        widget=SecretTextarea(attrs={"rows": 2}),
        label="apprise URL",
        help_text="mailtos://user:password@smtp.example.com?to=ops@example.com, "
        "slack://…, discord://…, tgram://…, ntfy://…, json://… (a webhook). It holds "
        "tokens: stored encrypted, never shown again.",
    )
    kinds = forms.MultipleChoiceField(
        choices=AlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Alerts it gets",
        help_text="None ticked: every kind.",
    )
    deploys = forms.BooleanField(
        required=False,
        label="Every deploy that succeeds too",
        help_text="A message per successful deploy or rollback; failed ones are alerts.",
    )

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.team = team

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if Channel.objects.filter(team=self.team, name=name).exists():
            raise ValidationError("Another channel of this team has that name.")
        return name


class RuleForm(forms.Form):
    kind = forms.ChoiceField(choices=AlertKind.choices, label="Alert")
    server = forms.ModelChoiceField(
        queryset=Server.objects.none(), required=False, empty_label="every server",
        help_text="A server's own rule wins over the team's.",
    )  # fmt: skip
    threshold = forms.FloatField(min_value=0, max_value=1_000_000, required=False)
    minutes = forms.IntegerField(min_value=0, max_value=7 * 24 * 60, required=False)
    enabled = forms.BooleanField(required=False, initial=True, label="On")

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["server"].queryset = Server.objects.filter(team=team)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind is None:
            return data
        default = DEFAULTS[AlertKind(kind)]
        data["threshold"] = (
            default.threshold if data.get("threshold") is None else data["threshold"]
        )
        data["minutes"] = default.minutes if data.get("minutes") is None else data["minutes"]
        if kind in PERCENT_KINDS and data["threshold"] > 100:
            self.add_error("threshold", "A percentage is 100 at most.")
        return data


class IntervalForm(forms.Form):
    interval_seconds = forms.IntegerField(
        min_value=10, max_value=3600, label="Collect every (seconds)",
        help_text="10 to 3600; each round asks the server once over its SSH connection.",
    )  # fmt: skip


class UptimeForm(forms.Form):
    url = forms.CharField(
        max_length=500,
        validators=[validate_check_url],
        label="Address",
        help_text="Asked every minute with GET; up when it answers 2xx or 3xx within 10 s.",
    )
