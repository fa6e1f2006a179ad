from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deployments.models import App, Release
from panel.api import tokens
from panel.audit import Actor
from panel.jobs.log import JobLog
from panel.models import ApiToken, AuditEvent, Job
from tests.conftest import Crew
from tests.deployments.conftest import SECRET


def _token(user: User, scope: str, **fields: Any) -> str:
    secret = tokens.create(Actor.for_user(user), user, f"{scope}-ci", scope, None)
    if fields:
        ApiToken.objects.filter(digest=tokens._digest(secret)).update(**fields)
    return secret


def _post(client: Client, url: str, secret: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(
        url,
        json.dumps(body or {}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def test_a_deploy_token_deploys_and_the_job_can_be_followed(
    crew: Crew, client: Client, app: App, django_capture_on_commit_callbacks: Any
) -> None:
    secret = _token(crew.deployer, "deploy")
    with django_capture_on_commit_callbacks(execute=False):
        response = _post(client, "/api/v1/apps/shop/deploy", secret, {"tag": "v9"})
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert Release.objects.get().version == "v9"
    event = AuditEvent.objects.get(action="job.app.deploy")
    assert event.actor_type == "token" and event.actor_label == "dora (token deploy-ci)"

    log = JobLog(job.pk)
    log.write("one\ntwo\nthree")
    log.flush()
    status = client.get(
        f"/api/v1/jobs/{job.pk}" + "?after=0", HTTP_AUTHORIZATION=f"Bearer {secret}"
    ).json()
    assert [line["text"] for line in status["lines"]] == ["two", "three"]
    assert status["status"] == "queued" and status["next_after"] == 2


def test_a_read_token_cannot_deploy(crew: Crew, client: Client, app: App) -> None:
    secret = _token(crew.admin, "read")
    response = _post(client, "/api/v1/apps/shop/deploy", secret, {"tag": "v9"})
    assert response.status_code == 403 and "scope (read)" in response.json()["error"]
    assert client.get("/api/v1/apps/shop", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert not Job.objects.exists()


def test_a_viewers_deploy_token_is_limited_by_the_role(
    crew: Crew, client: Client, app: App
) -> None:
    secret = _token(crew.viewer, "deploy")
    assert _post(client, "/api/v1/apps/shop/deploy", secret).status_code == 403


@pytest.mark.parametrize(
    "fields",
    [
        {"revoked_at": timezone.now()},
        {"expires_at": timezone.now() - timedelta(minutes=1)},
    ],
)
def test_revoked_and_expired_tokens_get_401(
    crew: Crew, client: Client, app: App, fields: Any
) -> None:
    secret = _token(crew.admin, "deploy", **fields)
    response = _post(client, "/api/v1/apps/shop/deploy", secret)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_no_or_a_wrong_token_gets_401(client: Client, db: None) -> None:
    assert client.get("/api/v1/apps/shop").status_code == 401
    assert client.get("/api/v1/apps/shop", HTTP_AUTHORIZATION="Bearer pnl_wrong").status_code == 401


def test_another_team_gets_404(crew: Crew, client: Client, app: App) -> None:
    secret = _token(crew.outsider, "admin")
    assert client.get("/api/v1/apps/shop", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 404


def test_the_app_answer_never_carries_secrets(crew: Crew, client: Client, app: App) -> None:
    secret = _token(crew.admin, "admin")
    body = client.get("/api/v1/apps/shop", HTTP_AUTHORIZATION=f"Bearer {secret}")
    text = body.content.decode()
    assert body.json()["name"] == "shop" and SECRET not in text and "registry-pass" not in text


def test_tokens_are_stored_hashed_and_shown_once(crew: Crew, client: Client) -> None:
    client.force_login(crew.deployer)
    page = client.post(
        reverse("token_list"), {"name": "ci", "scope": "deploy", "expires_in_days": "30"}
    ).content.decode()
    token = ApiToken.objects.get()
    shown = page.split('id="token-secret" value="')[1].split('"')[0]
    assert shown.startswith("pnl_") and token.digest == tokens._digest(shown)
    assert shown not in client.get(reverse("token_list")).content.decode()
    client.post(reverse("token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None and tokens.find(shown) is None


def test_the_openapi_document_is_generated_and_names_what_each_operation_needs(
    crew: Crew, client: Client
) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 401
    secret = _token(crew.viewer, "read")
    document = client.get("/api/v1/openapi.json", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert {"/api/v1/apps/{name}/deploy", "/api/v1/servers", "/api/v1/audit/export"} <= set(
        document["paths"]
    )
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(set(ids)) == len(ids)
    for operations in document["paths"].values():
        for operation in operations.values():
            assert operation["x-panel-action"], operation["operationId"]


def test_the_docs_page_is_for_people_signed_in(crew: Crew, client: Client) -> None:
    assert client.get("/api/v1/docs")["Location"].startswith("/login")
    client.force_login(crew.viewer)
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.content


def test_bad_json_and_bad_tags_get_400(crew: Crew, client: Client, app: App) -> None:
    secret = _token(crew.admin, "deploy")
    url = "/api/v1/apps/shop/deploy"
    bad = client.post(
        url, "{nope", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
    assert _post(client, url, secret, {"tag": "$(id)"}).status_code == 400


def test_an_app_built_from_git_deploys_a_ref_or_its_branch_head(
    crew: Crew, client: Client, app: App, django_capture_on_commit_callbacks: Any
) -> None:
    App.objects.filter(pk=app.pk).update(git_url="git@github.com:acme/shop.git")
    secret = _token(crew.deployer, "deploy")
    url = "/api/v1/apps/shop/deploy"
    with django_capture_on_commit_callbacks(execute=False):
        assert _post(client, url, secret, {"ref": "feature/login"}).status_code == 202
    assert Release.objects.get().version == "feature/login"
    Release.objects.all().delete()
    Job.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False):
        assert _post(client, url, secret).status_code == 202
    assert Release.objects.get().version == ""
    refused = _post(client, url, secret, {"ref": "--upload-pack=touch /tmp/x"})
    assert refused.status_code == 400 and "branch, tag or commit" in refused.json()["error"]
    described = client.get("/api/v1/apps/shop", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert described["git"] == {"url": "git@github.com:acme/shop.git", "branch": "main"}
    assert described["releases"][0]["commit"] == ""
