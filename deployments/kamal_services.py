"""Creating what a Kamal configuration describes: its hosts as servers (an existing server at
the same address is used; a new one waits for its host key to be confirmed), the app with
its roles and variables, and its accessories. One transaction, one audit event."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from deployments import accessory_services, services
from deployments.kamal.mapping import AccessoryPlan, Plan, fill, value_of
from deployments.models import Accessory, App, EnvVar
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Team
from panel.sensitive import Sensitive
from servers.models import Server, SshKey


def import_app(
    actor: Actor,
    team: Team,
    plan: Plan,
    *,
    fields: dict[str, Any],
    roles: dict[str, dict[str, Any]],
    secrets: dict[str, str],
    ssh_key: SshKey,
) -> App:
    """`fields` and `roles` as the app's form checked them; `roles` without servers, which
    come from the plan's hosts."""
    with transaction.atomic():
        servers, created = _servers(team, plan, ssh_key)
        for name, role in roles.items():
            role["servers"] = [servers[address] for address in plan.roles[name]["hosts"]]
        app = services.new_app(team, dict(fields), roles)
        app.kamal_extensions = plan.extensions
        app.save(update_fields=["kamal_extensions"])
        for variable in plan.variables:
            EnvVar.objects.create(
                team=team, app=app, role=variable.role, key=variable.key,
                value=Sensitive(value_of(variable, secrets)), secret=bool(variable.secret_name),
            )  # fmt: skip
        accessories = [_accessory(team, planned, servers, secrets) for planned in plan.accessories]
        Accessory.objects.filter(pk__in=[a.pk for a in accessories]).update(imported_with=app)
        audit.record(
            actor,
            AuditAction.APP_IMPORT,
            team=team,
            target=app,
            details={
                "servers_created": created,
                "servers": sorted(server.name for server in servers.values()),
                "roles": {name: sorted(plan.roles[name]["hosts"]) for name in roles},
                "variables": sorted(f"{v.role or 'all'}:{v.key}" for v in plan.variables),
                "accessories": [accessory.name for accessory in accessories],
                "unsupported": [entry.path for entry in plan.review.unsupported],
            },
        )
    return app


def _accessory(
    team: Team, planned: AccessoryPlan, servers: dict[str, Server], secrets: dict[str, str]
) -> Accessory:
    return accessory_services.new_accessory(
        team,
        name=planned.name,
        server=servers[planned.host],
        kind=planned.kind,
        image=planned.image,
        publish=planned.publish,
        command=planned.command,
        volumes=planned.volumes,
        variables={variable.key: value_of(variable, secrets) for variable in planned.variables},
    )


def app_fields(plan: Plan, secrets: dict[str, str]) -> dict[str, Any]:
    """The app's fields with each secret placeholder filled, and the registry password."""
    fields = {name: fill(value, secrets) for name, value in plan.app.items()}
    if plan.registry_password is not None:
        fields["registry_password"] = value_of(plan.registry_password, secrets)
    return fields


def _servers(team: Team, plan: Plan, ssh_key: SshKey) -> tuple[dict[str, Server], list[str]]:
    found: dict[str, Server] = {}
    created: list[str] = []
    for host in plan.hosts:
        server = Server.objects.filter(team=team, host=host.address).first()
        if server is None:
            server = Server.objects.create(
                team=team, name=_free_name(team, host.address), host=host.address,
                port=host.port, user=host.user, ssh_key=ssh_key,
            )  # fmt: skip
            created.append(server.name)
        found[host.address] = server
    return found, created


def _free_name(team: Team, address: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", address.lower()).strip("-")[:56] or "server"
    name, number = base, 1
    while Server.objects.filter(team=team, name=name).exists():
        number += 1
        name = f"{base}-{number}"
    return name
