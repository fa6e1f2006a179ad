from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import User
from django.utils import timezone

from panel.models import LoginFailure, Role
from panel.models.teams import slug_validator
from panel.requests import client_ip
from panel.schedules import validate_schedule


def errors_in_words(form: forms.BaseForm) -> str:
    """Every error of a form in one line, for a message above the page it came from."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def schedule_field(example: str, meaning: str, empty: str) -> forms.CharField:
    """Five cron fields, optional: `example` (`meaning`), or empty for `empty`."""
    return forms.CharField(
        required=False, max_length=100, validators=[validate_schedule],
        help_text=f"Five cron fields, e.g. {example} ({meaning}). Empty: {empty}.",
    )  # fmt: skip


def only_choice(queryset: Any) -> Any:
    """The one object of a queryset of choices, or None when there are none or several: a
    form chooses it already, as a person would have to anyway."""
    first_two = list(queryset[:2])
    return first_two[0] if len(first_two) == 1 else None


def choose_from(form: forms.BaseForm, name: str, queryset: Any) -> None:
    """Offer a model choice field these objects, the only one already chosen."""
    form.fields[name].queryset = queryset  # type: ignore[attr-defined]
    if (chosen := only_choice(queryset)) is not None:
        form.initial.setdefault(name, chosen.pk)


# Per address a little more lenient than per name: several people may share an address.
IP_FAILURE_FACTOR = 4


class RateLimitedLoginForm(auth_forms.AuthenticationForm):
    """Sign-in that stops guessing per user name and per client address."""

    def clean(self) -> dict[str, Any]:
        username = sign_in_name(self.data.get("username") or "")
        ip = client_ip(self.request) if self.request else None
        if too_many_failures(username, ip):
            raise forms.ValidationError(
                "Too many failed sign-ins. Wait a few minutes and try again.", code="rate_limited"
            )
        try:
            return super().clean()
        except forms.ValidationError:
            count_failure(username, ip)
            raise


def sign_in_name(typed: str) -> str:
    """The name failures are counted under: the one the backend looks up (stripped,
    NFKC-normalised, as the sign-in form cleans it), so no other spelling gets fresh guesses."""
    name = str(auth_forms.UsernameField(max_length=150).to_python(typed))[:150]
    stored = User.objects.filter(username=name).values_list("username", flat=True).first()
    return stored or name


def count_failure(username: str, ip: str | None) -> None:
    """A failed password or second-factor code: both count toward the same limit."""
    LoginFailure.objects.create(username=username, ip=ip)


def too_many_failures(username: str, ip: str | None) -> bool:
    since = timezone.now() - timedelta(seconds=settings.PANEL_LOGIN_WINDOW_SECONDS)
    limit = settings.PANEL_LOGIN_MAX_FAILURES
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username).count() >= limit:
        return True
    return ip is not None and recent.filter(ip=ip).count() >= limit * IP_FAILURE_FACTOR


class BaseUrlPasswordResetForm(auth_forms.PasswordResetForm):
    """Reset links point at PANEL_BASE_URL, never at whatever Host header arrived."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        base = urlsplit(settings.PANEL_BASE_URL)
        kwargs["domain_override"] = base.netloc
        kwargs["use_https"] = base.scheme == "https"
        super().save(*args, **kwargs)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=200)
    action = forms.CharField(required=False, max_length=64)
    target = forms.CharField(required=False, max_length=200)
    since = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("since", "until"):
            if data.get(name):  # in UTC: PostgreSQL takes offsets of under 16 hours only
                data[name] = data[name].astimezone(UTC)
        return data


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=63, validators=[slug_validator])


class InviteForm(forms.Form):
    email = forms.EmailField(
        help_text="The invitation goes there, and only that address can accept it."
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.DEPLOYER)


def form_data(values: dict[str, Any]) -> dict[str, Any]:
    """A body's values as a form reads posted fields: lists one item a line, None empty."""
    data: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            data[name] = ""
        elif isinstance(value, bool):
            data[name] = value
        elif isinstance(value, list):
            data[name] = "\n".join(str(item) for item in value)
        else:
            data[name] = str(value)
    return data


def current_data(form: forms.BaseForm) -> dict[str, Any]:
    """An unbound form's fields as posted data, so a PATCH changes only what it names."""
    return {name: "" if (value := form[name].value()) is None else value for name in form.fields}
