"""The form that adds a notification channel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from deployments.forms import SecretTextarea
from monitoring.models import AlertKind, Channel
from monitoring.validators import validate_check_url
from panel.models import Team
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

    def __init__(self, *args: Any, team: Team, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.team = team

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if Channel.objects.filter(team=self.team, name=name).exists():
            raise ValidationError("Another channel of this team has that name.")
        return name


class UptimeForm(forms.Form):
    url = forms.CharField(
        max_length=500,
        validators=[validate_check_url],
        label="Address",
        help_text="Asked every minute with GET; up when it answers 2xx or 3xx within 10 s.",
    )
