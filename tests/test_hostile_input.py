"""Every form of the panel and every API operation, found from the URLconf and the OpenAPI
document (never listed by hand), sent hostile text as an owner: NUL and other control
characters, text that is not UTF-8 (lone surrogates), and 1 MB values. No answer is a 5xx and
nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from backups import services as backup_services
from backups.models import Backup, ScratchCopy, Upgrade
from deployments import accessory_services
from deployments.models import AccessoryLink, App, EnvVar, Release, ReleaseStatus, Role, Webhook
from monitoring import services as monitoring_services
from monitoring.models import Alert, AlertRule, UptimeCheck
from panel import invitation_services
from panel.api import tokens
from panel.audit import Actor
from panel.models import ApiToken, Invitation, Job, LoginFailure
from runbooks.models import Runbook
from servers.models import MemberKey, ServerAccess
from tests.conftest import Crew, new_server

# As a browser sends them, form-encoded: NUL, ESC, DEL, a lone surrogate (its CESU-8 bytes),
# a byte that is not UTF-8 at all, and 1 MB.
FORM_PAYLOADS = {
    "nul": b"ok\x00",
    "escape": b"ok\x1b[31m",
    "delete": b"ok\x7f",
    "surrogate": b"ok\xed\xa0\x80",
    "not-utf8": b"ok\xff",
    "1MB": b"a" * 1_000_000,
}
JSON_PAYLOADS = {
    "nul": "ok\u0000",
    "escape": "ok\u001b[31m",
    "surrogate": "ok\ud800",
    "1MB": "a" * 1_000_000,
}
TEXT_INPUTS = {"text", "password", "hidden", "search", "url", "email", "number", "textarea", ""}


@dataclass
class World:
    crew: Crew
    values: dict[str, str]
    token: str


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    text_fields: list[str] = field(default_factory=list)


@pytest.fixture
def world(crew: Crew) -> World:
    server = new_server(crew)
    key = server.ssh_key
    app = App.objects.create(
        team=crew.team, name="shop", image="registry.example.com/shop",
        git_url="https://git.example.com/acme/shop.git",
    )  # fmt: skip
    webhook = Webhook.objects.create(team=crew.team, app=app, provider="github", secret="s" * 20)
    Role.objects.create(app=app, name="web").servers.set([server])
    env = EnvVar.objects.create(team=crew.team, app=app, key="MODE", value="production")
    job = Job.objects.create(kind="app.deploy", team=crew.team, actor_label="olivia")
    release = Release.objects.create(
        app=app, version="v1", image="registry.example.com/shop:v1", status=ReleaseStatus.RETIRED
    )
    secret = tokens.create(Actor.for_user(crew.owner), crew.owner, "ci", "admin", None)
    accessory = accessory_services.create_accessory(
        Actor.for_user(crew.owner), crew.team, name="db", server=server, kind="postgres"
    )
    link = AccessoryLink.objects.create(
        team=crew.team, accessory=accessory, app=app, variable="DATABASE_URL", database="shop",
        user="shop", password="x" * 32,
    )  # fmt: skip
    repository = backup_services.create_repository(
        Actor.for_user(crew.owner), crew.team, name="disk", kind="local", server=server,
        folder="/srv/backups",
    )  # fmt: skip
    backup = Backup.objects.create(
        team=crew.team, repository=repository, accessory=accessory, succeeded=True,
        snapshot_id="a" * 64,
    )  # fmt: skip
    policy = backup_services.create_policy(
        Actor.for_user(crew.owner), accessory, schedule="0 3 * * *", repositories=[repository],
        keep={"keep_last": 7, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
    )  # fmt: skip
    copy = ScratchCopy.objects.create(
        team=crew.team, accessory=accessory, backup=backup, container="db-scratch"
    )
    upgrade = Upgrade.objects.create(
        team=crew.team, accessory=accessory, from_image="postgres:15", to_image="postgres:17",
        status="upgraded", kept_volume="panel-accessory-db-data-pg15",
    )  # fmt: skip
    alert = Alert.objects.create(
        team=crew.team, kind="disk", server=server, subject="/", title="web-1: / is 95 % full",
        opened_at=timezone.now(),
    )  # fmt: skip
    channel = monitoring_services.create_channel(
        Actor.for_user(crew.owner), crew.team, name="ops", url="json://hooks.example.com/h",
        kinds=[],
    )  # fmt: skip
    check = UptimeCheck.objects.create(team=crew.team, url="https://status.example.com/")
    rule = AlertRule.objects.create(team=crew.team, kind="cpu", threshold=95, minutes=5)
    member_key = MemberKey.objects.create(user=crew.owner, name="laptop", public_key=key.public_key,
                                          fingerprint=key.fingerprint)  # fmt: skip
    access = ServerAccess.objects.create(team=crew.team, server=server, user=crew.viewer,
                                         login="deploy")  # fmt: skip
    runbook = Runbook.objects.create(team=crew.team, name="drill", steps="- wait: 1")
    _, invitation_link = invitation_services.invite(
        Actor.for_user(crew.owner), crew.team, "new@example.com", "viewer"
    )
    values = {
        "runbook_id": str(runbook.pk),
        "webhook_id": str(webhook.pk),
        "token": invitation_link.rsplit("/", 1)[1],
        "invitation_id": str(Invitation.objects.get().pk),
        "member_key_id": str(member_key.pk),
        "access_id": str(access.pk),
        "rule_id": str(rule.pk),
        "check_id": str(check.pk),
        "alert_id": str(alert.pk),
        "channel_id": str(channel.pk),
        "server_id": str(server.pk),
        "key_id": str(key.pk),
        "app_id": str(app.pk),
        "env_id": str(env.pk),
        "release_id": str(release.pk),
        "job_id": str(job.pk),
        "user_id": str(crew.viewer.pk),
        "token_id": str(ApiToken.objects.get().pk),
        "role": "web",
        "name": "shop",
        "fmt": "csv",
        "uidb64": "MQ",
        "id": str(job.pk),
        "accessory_id": str(accessory.pk),
        "link_id": str(link.pk),
        "backup_id": str(backup.pk),
        "policy_id": str(policy.pk),
        "copy_id": str(copy.pk),
        "repository_id": str(repository.pk),
        "upgrade_id": str(upgrade.pk),
    }
    return World(crew, values, secret)


@pytest.mark.timeout(900)  # every form of the panel, six payloads each, two snapshots per send
def test_every_form_refuses_hostile_text_and_stores_nothing(world: World, client: Client) -> None:
    forms = _discover_forms(world, client)
    assert len(forms) > 20, "the crawl found the panel's forms"
    stored = _snapshot()  # nothing may change it: each send is compared with it
    for form in forms:
        targets = form.text_fields or ["extra"]
        for name in targets:
            for label, payload in FORM_PAYLOADS.items():
                client.force_login(world.crew.owner)
                response = _send(client, form, name, payload)
                where = f"{form.method} {form.action} field {name!r} with {label}"
                assert response.status_code < 500, where
                assert _snapshot() == stored, f"{where} stored something"


def test_every_api_operation_refuses_hostile_text_and_stores_nothing(
    world: World, client: Client
) -> None:
    document = client.get("/api/v1/openapi.json").json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.token}"}
    sent = 0
    stored = _snapshot()
    for route, operations in document["paths"].items():
        for method, operation in operations.items():
            path = route.format(**world.values)
            body_schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            body_fields = list(body_schema.get("properties", {}))
            query_fields = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
            path_fields = [p["name"] for p in operation["parameters"] if p["in"] == "path"]
            for label, payload in JSON_PAYLOADS.items():
                in_url = quote_from_bytes(payload.encode("utf-8", "surrogatepass"), safe="")
                cases: list[tuple[str, dict[str, Any]]] = []
                cases += [(path, {name: payload}) for name in body_fields]
                cases += [(f"{path}?{name}={in_url}", {}) for name in query_fields]
                cases += [
                    (route.format(**{**world.values, name: in_url[:300]}), {})
                    for name in path_fields
                ]
                for url, body in cases:
                    response = client.generic(
                        method.upper(),
                        url,
                        json.dumps(body),
                        content_type="application/json",
                        **auth,  # type: ignore[arg-type]
                    )
                    where = f"{method.upper()} {route} with {label} in {body or url[-40:]!r}"
                    assert response.status_code < 500, where
                    assert response["Content-Type"] == "application/json", where
                    assert _snapshot() == stored, f"{where} stored something"
                    sent += 1
    assert sent > 20


def _discover_forms(world: World, client: Client) -> list[Form]:
    found: dict[tuple[str, str, tuple[str, ...]], Form] = {}
    for route in _routes(get_resolver().url_patterns):
        if route.startswith("api/"):
            continue
        url = "/" + _fill(route, world.values)
        client.force_login(world.crew.owner)
        response = client.get(url)
        if response.streaming or "text/html" not in response.get("Content-Type", ""):
            continue
        assert response.status_code < 500, url
        page_forms = _forms_in(response.content.decode(), url)
        if not page_forms:
            page_forms = [Form("post", url)]  # a POST-only address: posted to directly
        for form in page_forms:
            found.setdefault((form.method, form.action, tuple(form.fields)), form)
    return list(found.values())


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def _fill(route: str, values: dict[str, str]) -> str:
    filled = route
    while "<" in filled:
        start, end = filled.index("<"), filled.index(">")
        name = filled[start + 1 : end].split(":")[-1]
        assert name in values, f"the test has no value for <{name}> in {route}; add one"
        filled = filled[:start] + values[name] + filled[end + 1 :]
    return filled


def _send(client: Client, form: Form, name: str, payload: bytes) -> Any:
    pairs = [(key, value.encode()) for key, value in form.fields.items() if key != name]
    pairs.append((name, payload))
    encoded = "&".join(
        f"{quote_from_bytes(k)}={quote_from_bytes(v)}"
        for k, v in ((key.encode(), value) for key, value in pairs)
    )
    if form.method == "get":
        return client.get(f"{form.action}?{encoded}")
    return client.generic(
        "POST", form.action, encoded, content_type="application/x-www-form-urlencoded"
    )


def _snapshot() -> list[Any]:
    """Every stored row but sessions, sign-in failures, when a person last signed in, when a
    token was last used and a webhook's count of refused deliveries."""
    skipped = {Session, LoginFailure}
    counters = {
        ApiToken: {"last_used_at"},
        User: {"last_login"},
        Webhook: {"refused_count", "last_refused_at", "last_refused_reason"},
    }
    rows = []
    for model in apps.get_models():
        if model in skipped or model._meta.proxy:
            continue
        unsaved = counters.get(model, set())
        values = model._default_manager.values(
            *(f.attname for f in model._meta.concrete_fields if f.name not in unsaved)
        )
        rows.append((model._meta.label, sorted(map(repr, values))))
    return rows


def _forms_in(html: str, page: str) -> list[Form]:
    parser = _FormParser(page)
    parser.feed(html)
    return parser.forms


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            action = urlsplit(attributes.get("action") or self.page).path or self.page
            self.current = Form(attributes.get("method", "get").lower(), action)
            self.forms.append(self.current)
            return
        if self.current is None or "name" not in attributes:
            return
        name, kind = attributes["name"], attributes.get("type", "" if tag != "input" else "text")
        if tag == "select":
            self.select = name
            self.current.fields.setdefault(name, "")
        elif tag == "textarea" or (tag == "input" and kind in TEXT_INPUTS):
            self.current.fields[name] = attributes.get("value", "")
            if name != "csrfmiddlewaretoken":
                self.current.text_fields.append(name)
        elif tag == "input" and kind in {"checkbox", "radio"}:
            if "checked" in attributes:
                self.current.fields[name] = attributes.get("value", "on")
        elif tag == "option" and self.select and not self.current.fields.get(self.select):
            self.current.fields[self.select] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
