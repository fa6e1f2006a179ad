"""Update events record before → after of the fields that changed; a secret only says whether
it changed. Shown on the audit page and in the export."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from deployments import services
from deployments.models import App
from panel import audit
from panel.models import AuditAction, AuditEvent
from panel.sensitive import REDACTED, Sensitive
from servers.models import Server
from tests.conftest import Crew
from tests.deployments.test_views import _app_form


def test_diff_names_each_changed_field_and_only_whether_a_secret_changed() -> None:
    before = {"port": 22, "name": "web", "domains": ["a.example"], "ratio": 1.0}
    after = {"port": 2222, "name": "web", "domains": ["a.example", "b.example"], "ratio": 1}
    found = audit.diff(before, after, secrets={"password": True, "token": False})
    assert found == {
        "changes": {
            "port": {"from": 22, "to": 2222},
            "domains": {"from": ["a.example"], "to": ["a.example", "b.example"]},
            "password": "changed",
            "token": "unchanged",
        }
    }
    assert audit.diff(None, after) == {}
    # Masking lets the facts through, never a value under a secret-sounding name.
    masked = audit.mask_secrets(
        {"changes": {"password": "changed", "api_key": {"from": "a", "to": "b"}}}
    )
    assert masked == {"changes": {"password": "changed", "api_key": REDACTED}}
    assert audit.mask_secrets({"changes": {"note": {"from": Sensitive("x"), "to": "y"}}}) == {
        "changes": {"note": {"from": REDACTED, "to": "y"}}
    }


def test_editing_an_app_records_what_changed_and_masks_its_password(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.admin)
    client.post(reverse("app_new"), _app_form(server, registry_password="first-pass-1"))
    app = App.objects.get(name="blog")
    edit = _app_form(server, container_port="8080", domains="blog.example.com\nwww.example.com")
    assert client.post(reverse("app_edit", args=[app.pk]), edit).status_code == 302
    changes = AuditEvent.objects.get(action=AuditAction.APP_UPDATE).details["changes"]
    assert changes["container_port"] == {"from": 80, "to": 8080}
    assert changes["domains"] == {
        "from": ["blog.example.com"],
        "to": ["blog.example.com", "www.example.com"],
    }
    assert changes["registry_password"] == "unchanged" and "image" not in changes

    again = _app_form(server, container_port="8080", registry_password="second-pass-2",
                      domains="blog.example.com\nwww.example.com")  # fmt: skip
    client.post(reverse("app_edit", args=[app.pk]), again)
    latest = AuditEvent.objects.filter(action=AuditAction.APP_UPDATE).latest("id")
    assert latest.details["changes"]["registry_password"] == "changed"
    assert "second-pass-2" not in json.dumps(latest.details)


def test_a_variable_s_new_value_is_shown_unless_it_is_secret(crew: Crew, app: App) -> None:
    actor = crew.actor(crew.admin)
    services.set_env(actor, app, "MODE", "staging", secret=False)
    plain = AuditEvent.objects.filter(action=AuditAction.APP_ENV_SET).latest("id")
    assert plain.details["changes"] == {"value": {"from": "production", "to": "staging"}}
    services.set_env(actor, app, "DATABASE_URL", "postgres://new", secret=True)
    hidden = AuditEvent.objects.filter(action=AuditAction.APP_ENV_SET).latest("id")
    assert hidden.details["changes"] == {"value": "changed"}
    assert "postgres://new" not in json.dumps(hidden.details)
    services.set_env(actor, app, "NEW_ONE", "x", secret=False)
    created = AuditEvent.objects.filter(action=AuditAction.APP_ENV_SET).latest("id")
    assert "changes" not in created.details


def test_the_audit_page_and_the_export_show_the_changes(
    crew: Crew, client: Client, app: App
) -> None:
    services.set_env(crew.actor(crew.admin), app, "MODE", "staging", secret=False)
    client.force_login(crew.owner)
    page = client.get(reverse("audit_list")).content.decode()
    assert "<code>value</code> production → staging" in page
    exported = client.get(reverse("audit_export", args=["json"]))
    rows = json.loads(b"".join(exported.streaming_content))  # type: ignore[attr-defined]
    assert any(
        row["details"].get("changes") == {"value": {"from": "production", "to": "staging"}}
        for row in rows
    )
