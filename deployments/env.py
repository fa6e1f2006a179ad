"""What an app's containers and builds are given: variables per role, build arguments and
build secrets. Read helpers only; writes are in `deployments.services`."""

from __future__ import annotations

from deployments.models import App
from deployments.validators import name_values
from panel.fields import is_set
from panel.sensitive import Sensitive


def env_for_role(app: App, role: str) -> dict[str, Sensitive[str]]:
    """Values for one role: app-wide first, then the role's own overrides."""
    values: dict[str, Sensitive[str]] = {}
    variables = sorted(app.env.all(), key=lambda v: (v.role != "", v.key))
    for variable in variables:
        if variable.for_containers and variable.role in ("", role):
            values[variable.key] = variable.value
    return values


def env_names(app: App, role: str) -> list[str]:
    """The names `env_for_role` gives, without reading (or decrypting) a value."""
    rows = app.env.filter(for_containers=True, role__in=["", role]).values_list("key", flat=True)
    return sorted(set(rows))


def build_secret_names(app: App) -> list[str]:
    return list(
        app.env.filter(role="", for_build=True).order_by("key").values_list("key", flat=True)
    )


def build_secrets(app: App) -> dict[str, Sensitive[str]]:
    return {v.key: v.value for v in app.env.filter(role="", for_build=True).order_by("key")}


def build_args(app: App) -> dict[str, str]:
    """The app's `NAME=value` build argument lines (validated by the form) as a dict."""
    return name_values(app.build_args.reveal())


def build_arg_names(app: App) -> list[str]:
    """The names are inside the encrypted text of the arguments: this one field is opened."""
    return sorted(build_args(app)) if is_set(app, "build_args") else []


def secret_values(app: App) -> list[Sensitive[str]]:
    """Every value a job of this app must keep out of its log."""
    values: list[Sensitive[str]] = [v.value for v in app.env.filter(secret=True)]
    values += [Sensitive(value) for value in build_args(app).values()]
    if app.registry_password:
        values.append(app.registry_password)
    if app.git_token:
        values.append(app.git_token)
    return values
