"""Links as the panel records them: the app's secret variable and the link row, written
together with their audit event; and how an app reaches an accessory."""

from __future__ import annotations

from django.db import transaction

from deployments import accessory_reach
from deployments.accessory_kinds import KINDS
from deployments.models import Accessory, AccessoryLink, App, EnvVar
from deployments.spec import servers_of
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction
from panel.sensitive import Sensitive

UNREACHABLE = (
    "{app} runs on other servers than {accessory}: publish {accessory} on a private address "
    "of its server first, so they reach it there."
)


def address_of(accessory: Accessory, app: App) -> tuple[str, int] | None:
    kind = KINDS.get(accessory.kind, KINDS["custom"])
    return accessory_reach.address_for(
        accessory.name,
        accessory.server_id,
        kind.port or accessory.port,
        list(accessory.publish),
        {server.pk for server in servers_of(app, builder=False)},
    )


def linked(
    actor: Actor,
    accessory: Accessory,
    app: App,
    *,
    variable: str,
    database: str,
    user: str,
    number: int,
    password: str,
    url: str,
) -> AccessoryLink:
    with transaction.atomic():
        row = AccessoryLink(
            team=accessory.team,
            accessory=accessory,
            app=app,
            variable=variable,
            database=database,
            user=user,
            number=number,
        )
        row.password = Sensitive(password)
        row.save()
        env = EnvVar(team=app.team, app=app, role="", key=variable, secret=True)
        env.value = Sensitive(url)
        env.save()
        audit.record(
            actor,
            AuditAction.ACCESSORY_LINKED,
            team=accessory.team,
            target=accessory,
            details={"app": app.name, "variable": variable, "database": database, "user": user},
        )
    return row


def forget(actor: Actor, row: AccessoryLink, *, dropped: bool) -> None:
    with transaction.atomic():
        EnvVar.objects.filter(app=row.app, role="", key=row.variable).delete()
        audit.record(
            actor,
            AuditAction.ACCESSORY_UNLINKED,
            team=row.team,
            target=row.accessory,
            details={"app": row.app.name, "variable": row.variable, "dropped": dropped},
        )
        row.delete()


def rotated(
    actor: Actor, row: AccessoryLink, *, login: str, password: str, url: str, undone: bool = False
) -> None:
    """The link's login and password, and the app's variable, changed together."""
    with transaction.atomic():
        row.login = "" if login == row.user else login
        row.password = Sensitive(password)
        row.save(update_fields=["login", "password"])
        env = EnvVar.objects.get(app=row.app, role="", key=row.variable)
        env.value = Sensitive(url)
        env.save(update_fields=["value", "updated_at"])
        audit.record(
            actor,
            AuditAction.ACCESSORY_ROTATED,
            team=row.team,
            target=row.accessory,
            details={"app": row.app.name, "variable": row.variable, "login": login,
                     "undone": undone},
        )  # fmt: skip


def linked_reason(app: App, key: str) -> str:
    """Why a variable a link gives cannot be set or removed here, or ""."""
    link = app.accessory_links.filter(variable=key).select_related("accessory").first()
    if link is None:
        return ""
    return f"{key} comes from the link to {link.accessory.name}: unlink or rotate it there."
