"""Every API operation, read from the generated OpenAPI document, called by each role, with
each token scope, and from another team: what the operation's `x-panel-action` needs is
exactly what lets a call through, as on the pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from panel.api import tokens
from panel.audit import Actor
from panel.models import Role
from panel.permissions import Action, role_allows
from tests.conftest import World

ROLES = (Role.VIEWER, Role.DEPLOYER, Role.ADMIN, Role.OWNER)
# A valid body for each operation that reads one: a new operation with a body adds its own.
BODIES: dict[str, dict[str, Any]] = {
    "server_create": {
        "name": "web-9", "host": "127.0.0.1", "port": 1, "ssh_key": "k-web-1",
    },
    "app_create": {"name": "api", "image": "registry.example.com/api"},
    "app_change": {"health_path": "/healthz"},
    "env_set": {"value": "debug"},
    "app_deploy": {"ref": "main"},
    "app_rollback": {"release": "v1"},
    "policy_create": {
        "accessory": "db", "repositories": ["disk"], "schedule": "0 4 * * *", "keep_last": 3,
    },
    "back_up_now": {"accessory": "db", "repository": "disk"},
    "alert_silence": {"span": "1h"},
    "member_change": {"role": "deployer"},
}  # fmt: skip
NAMES = {"servers": "web-1", "accessories": "db"}
# Not a single team's row: they list across the caller's teams or work alike for all.
ACROSS_TEAMS = {"metrics"}


class Rollback(Exception):
    pass


async def _drain(chunks: Any) -> None:
    async for _ in chunks:
        pass


def operations(client: Client, token: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    document = client.get("/api/v1/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    for route, methods in document["paths"].items():
        for method, operation in methods.items():
            yield route, method, operation


def call(
    client: Client, world: World, user: User, scope: str, route: str, method: str,
    operation: dict[str, Any], team: str | None = None,
) -> int:  # fmt: skip
    secret = tokens.create(Actor.for_user(user), user, f"{scope}-walk", scope, None)
    kind = route.split("/")[3]
    values = {**world.values, "name": NAMES.get(kind, world.values["name"])}
    path = route.format(**values)
    if team:
        path += f"?team={team}"
    body = BODIES.get(operation["operationId"])
    if "requestBody" in operation:
        assert body is not None, f"add a valid body for {operation['operationId']} to BODIES"
    status = 0
    try:
        with transaction.atomic():
            response = client.generic(
                method.upper(), path, json.dumps(body or {}), content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            )  # fmt: skip
            status = response.status_code
            content: Any = getattr(response, "streaming_content", None)
            if content is not None and getattr(
                response, "is_async", False
            ):  # logs: with nothing running, a line
                async_to_sync(_drain)(content)
            elif content is not None:  # the audit's export
                b"".join(content)
            raise Rollback
    except Rollback:
        pass
    return status


def test_each_role_reaches_exactly_the_operations_its_role_allows(
    world: World, client: Client
) -> None:
    walked = 0
    for route, method, operation in operations(client, world.token):
        action = Action(operation["x-panel-action"])
        for role in ROLES:
            status = call(client, world, world.crew.by_role(role), "admin", route, method,
                          operation)  # fmt: skip
            where = f"{method.upper()} {route} as {role}: {status}"
            assert status < 500, where
            if role_allows(role, action):
                assert status < 300, where  # each body above is valid
            else:
                assert status == 403, where
            walked += 1
    assert walked >= 30 * len(ROLES)


def test_each_scope_reaches_exactly_the_operations_it_allows(world: World, client: Client) -> None:
    for route, method, operation in operations(client, world.token):
        action = Action(operation["x-panel-action"])
        for scope in ("read", "deploy", "admin"):
            status = call(client, world, world.crew.owner, scope, route, method, operation)
            where = f"{method.upper()} {route} with a {scope} token: {status}"
            if tokens.allows_scope(scope, action):
                assert status not in (401, 403, 404), where
            else:
                assert status == 403, where


def test_another_team_finds_nothing_of_this_one(world: World, client: Client) -> None:
    outsider, slug = world.crew.outsider, world.crew.team.slug
    for route, method, operation in operations(client, world.token):
        if operation["operationId"] in ACROSS_TEAMS:
            continue
        takes_team = any(p["name"] == "team" for p in operation.get("parameters", []))
        status = call(client, world, outsider, "admin", route, method, operation,
                      team=slug if takes_team else None)  # fmt: skip
        assert status == 404, f"{method.upper()} {route} from another team: {status}"


@pytest.mark.parametrize("path", ["/api/v1/metrics", "/api/v1/apps", "/api/v1/servers"])
def test_lists_across_teams_show_only_the_callers_own(
    world: World, client: Client, path: str
) -> None:
    secret = tokens.create(Actor.for_user(world.crew.outsider), world.crew.outsider, "x", "read",
                           None)  # fmt: skip
    text = client.get(path, HTTP_AUTHORIZATION=f"Bearer {secret}").content.decode()
    assert "shop" not in text and "web-1" not in text
