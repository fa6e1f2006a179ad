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

from deployments.models import Webhook
from panel.models import ApiToken, LoginFailure
from tests.conftest import World

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
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    text_fields: list[str] = field(default_factory=list)


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
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.token}"}
    document = client.get("/api/v1/openapi.json", **auth).json()  # type: ignore[arg-type]
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
