"""The API's resources as a CI script uses them: pages by cursor, an app made and changed,
its variables, idempotent job starts, conflicts, and errors that name the field."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from deployments.models import App, EnvVar
from panel.api import tokens
from panel.audit import Actor
from panel.models import AuditEvent, Job, Lock
from tests.conftest import World


def _send(client: Client, world: World, method: str, path: str, body: Any = None,
          **headers: Any) -> Any:  # fmt: skip
    return client.generic(
        method, path, json.dumps(body) if body is not None else "",
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {world.token}",
        **headers,
    )  # fmt: skip


def test_lists_come_in_pages_by_cursor(world: World, client: Client) -> None:
    for number in range(5):
        Job.objects.create(kind="app.deploy", team=world.crew.team, actor_label=f"run {number}")
    seen: list[int] = []
    cursor = ""
    while True:
        page = _send(client, world, "GET", f"/api/v1/jobs?limit=2{cursor}").json()
        seen += [job["id"] for job in page["results"]]
        if page["next"] is None:
            break
        cursor = f"&cursor={page['next']}"
    assert seen == sorted(Job.objects.values_list("pk", flat=True), reverse=True)
    bad = _send(client, world, "GET", "/api/v1/jobs?cursor=bm9wZQ")
    assert bad.status_code == 400 and bad.json()["fields"] == {"cursor": "not valid"}


def test_an_unknown_query_parameter_is_refused(world: World, client: Client) -> None:
    response = _send(client, world, "GET", "/api/v1/jobs?stauts=failed")
    assert response.status_code == 400 and "stauts" in response.json()["error"]


def test_an_app_is_made_and_changed_through_the_same_checks_as_its_page(
    world: World, client: Client
) -> None:
    made = _send(client, world, "POST", "/api/v1/apps", {
        "name": "api", "image": "registry.example.com/api", "domains": ["api.example.com"],
        "roles": [{"name": "web", "servers": ["web-1"]}], "registry_password": "hunter2",
    })  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["roles"] == [{"name": "web", "servers": ["web-1"], "command": ""}]
    assert "hunter2" not in made.content.decode()
    changed = _send(client, world, "PATCH", "/api/v1/apps/api", {"health_path": "/healthz"})
    assert changed.status_code == 200 and changed.json()["domains"] == ["api.example.com"]
    app = App.objects.get(name="api")
    assert app.health_path == "/healthz" and app.registry_password.reveal() == "hunter2"
    event = AuditEvent.objects.filter(action="app.update").latest("id")
    assert event.details["changes"]["health_path"] == {"from": "/up", "to": "/healthz"}

    taken = _send(client, world, "POST", "/api/v1/apps", {
        "name": "other", "image": "registry.example.com/o", "domains": ["api.example.com"],
    })  # fmt: skip
    assert taken.status_code == 400 and "domains" in taken.json()["fields"]
    nowhere = _send(client, world, "PATCH", "/api/v1/apps/api",
                    {"roles": [{"name": "web", "servers": ["nope"]}]})  # fmt: skip
    assert nowhere.status_code == 400 and "roles" in nowhere.json()["fields"]


def test_variables_are_set_and_unset_and_secrets_never_read_back(
    world: World, client: Client
) -> None:
    put = _send(client, world, "PUT", "/api/v1/apps/shop/env/API_KEY",
                {"value": "s3cr3t", "secret": True})  # fmt: skip
    assert put.status_code == 204, put.content
    listed = _send(client, world, "GET", "/api/v1/apps/shop/env").json()
    assert {"key": "API_KEY", "value": None}.items() <= next(
        v for v in listed if v["key"] == "API_KEY"
    ).items()
    assert "s3cr3t" not in json.dumps(listed)
    linked = _send(client, world, "PUT", "/api/v1/apps/shop/env/DATABASE_URL", {"value": "x"})
    assert linked.status_code == 409 and "link" in linked.json()["error"]
    bad = _send(client, world, "PUT", "/api/v1/apps/shop/env/1BAD", {"value": "x"})
    assert bad.status_code == 400 and "key" in bad.json()["fields"]
    assert _send(client, world, "DELETE", "/api/v1/apps/shop/env/API_KEY").status_code == 204
    assert not EnvVar.objects.filter(key="API_KEY").exists()


def test_a_job_start_with_an_idempotency_key_is_answered_once(world: World, client: Client) -> None:
    first = _send(client, world, "POST", "/api/v1/apps/shop/deploy", {"ref": "main"},
                  HTTP_IDEMPOTENCY_KEY="ci-run-41")  # fmt: skip
    again = _send(client, world, "POST", "/api/v1/apps/shop/deploy", {"ref": "main"},
                  HTTP_IDEMPOTENCY_KEY="ci-run-41")  # fmt: skip
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert Job.objects.filter(kind="app.deploy", params__version="main").count() == 1
    other = _send(client, world, "POST", "/api/v1/apps/shop/deploy", {"ref": "v2"},
                  HTTP_IDEMPOTENCY_KEY="ci-run-41")  # fmt: skip
    assert other.status_code == 422
    bad = _send(client, world, "POST", "/api/v1/apps/shop/stop", HTTP_IDEMPOTENCY_KEY="a b")
    assert bad.status_code == 400


def test_a_second_start_while_a_job_holds_the_app_is_a_conflict(
    world: World, client: Client
) -> None:
    started = _send(client, world, "POST", "/api/v1/apps/shop/deploy", {})
    assert started.status_code == 202
    running = Job.objects.get(pk=started.json()["job"])
    Job.objects.filter(pk=running.pk).update(status="running")
    Lock.objects.create(name=App.objects.get(name="shop").lock_name, holder=running)
    second = _send(client, world, "POST", "/api/v1/apps/shop/deploy", {})
    assert second.status_code == 409 and "job" in second.json()["error"]


def test_the_last_owner_is_kept(world: World, client: Client) -> None:
    demoted = _send(client, world, "PATCH", "/api/v1/members/olivia", {"role": "admin"})
    assert demoted.status_code == 409 and "owner" in demoted.json()["error"]


def test_a_read_token_reads_the_audit_but_only_an_admin_exports_it(
    world: World, client: Client
) -> None:
    viewer = world.crew.viewer
    secret = tokens.create(Actor.for_user(viewer), viewer, "read", "read", None)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    listed = client.get("/api/v1/audit?action=accessory.", **auth)  # type: ignore[arg-type]
    assert listed.status_code == 200
    assert {event["action"] for event in listed.json()["results"]} == {"accessory.create"}
    assert client.get("/api/v1/audit/export", **auth).status_code == 403  # type: ignore[arg-type]
    exported = _send(client, world, "GET", "/api/v1/audit/export?format=csv")
    assert exported["Content-Type"].startswith("text/csv")


def test_an_audit_filter_takes_any_offset_the_standard_allows(world: World, client: Client) -> None:
    # PostgreSQL refuses offsets of 16 hours or more; the filter compares in UTC.
    listed = _send(client, world, "GET", "/api/v1/audit?until=2999-10-10T12:22:22%2B23:38")
    assert listed.status_code == 200 and listed.json()["results"]
