from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.urls import reverse

from panel import audit
from panel.models import AuditAction, Job
from tests.conftest import Crew


def _events(crew: Crew) -> None:
    audit.record(
        crew.actor(crew.admin), AuditAction.SERVER_CREATE, team=crew.team, target_label="web-1"
    )
    audit.record(
        crew.actor(crew.deployer), AuditAction.APP_UPDATE, team=crew.team, target_label="shop"
    )
    audit.record(
        crew.actor(crew.outsider),
        AuditAction.APP_UPDATE,
        team=crew.other_team,
        target_label="theirs",
    )


def test_the_audit_page_lists_only_the_current_teams_events(crew: Crew, client: Client) -> None:
    _events(crew)
    client.force_login(crew.viewer)
    page = client.get(reverse("audit_list")).content.decode()
    assert "web-1" in page and "shop" in page and "theirs" not in page


def test_the_audit_page_filters_by_actor_action_and_target(crew: Crew, client: Client) -> None:
    _events(crew)
    client.force_login(crew.viewer)
    by_actor = client.get(reverse("audit_list"), {"actor": "dora"}).content.decode()
    assert "shop" in by_actor and "web-1" not in by_actor
    by_action = client.get(reverse("audit_list"), {"action": "server."}).content.decode()
    assert "web-1" in by_action and "shop" not in by_action
    by_target = client.get(reverse("audit_list"), {"target": "web"}).content.decode()
    assert "web-1" in by_target and "shop" not in by_target
    future = client.get(reverse("audit_list"), {"since": "2999-01-01T00:00"}).content.decode()
    assert "web-1" not in future and "No events match" in future


def test_admins_export_csv_and_json_with_the_same_filters(crew: Crew, client: Client) -> None:
    _events(crew)
    client.force_login(crew.admin)
    csv_body = b"".join(
        client.get(reverse("audit_export", args=["csv"]), {"action": "app."}).streaming_content  # type: ignore[attr-defined]
    ).decode()
    assert csv_body.splitlines()[0].startswith("id,at,") and "shop" in csv_body
    assert "web-1" not in csv_body and "theirs" not in csv_body
    rows = json.loads(
        b"".join(client.get(reverse("audit_export", args=["json"])).streaming_content)  # type: ignore[attr-defined]
    )
    assert {row["target_label"] for row in rows} == {"web-1", "shop"}


def test_viewers_cannot_export(crew: Crew, client: Client) -> None:
    client.force_login(crew.viewer)
    assert client.get(reverse("audit_export", args=["csv"])).status_code == 403


def test_csv_cells_that_would_run_as_formulas_are_quoted(crew: Crew, client: Client) -> None:
    audit.record(
        crew.actor(crew.admin), AuditAction.APP_CREATE, team=crew.team, target_label="=HYPERLINK()"
    )
    client.force_login(crew.admin)
    body = b"".join(client.get(reverse("audit_export", args=["csv"])).streaming_content).decode()  # type: ignore[attr-defined]
    assert "'=HYPERLINK()" in body


def test_verifying_the_chain_starts_an_audited_job(
    crew: Crew, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("audit_verify"))
    job = Job.objects.get()
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    assert job.kind == "audit.verify" and job.actor_label == "adam"


def test_details_read_as_plain_pairs(crew: Crew, client: Client) -> None:
    audit.record(
        crew.actor(crew.admin),
        AuditAction.APP_UPDATE,
        team=crew.team,
        target_label="shop",
        details={"tls": False, "git_key": None, "roles": {"web": {"servers": ["web-1"]}}},
    )
    client.force_login(crew.viewer)
    page = client.get(reverse("audit_list")).content.decode()
    assert "<dt>tls</dt><dd>no</dd>" in page and "<dt>git_key</dt><dd>—</dd>" in page
    assert "web: servers: web-1" in page and "None" not in page and "False" not in page
