"""Webhooks: signatures of each provider (GitHub's documented vector), reading pushes, and
receiving them: stored once, deployed, queued behind a running job, replaced, refused."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deployments import webhook_services
from deployments.models import App, DeliveryResult, Release, Webhook, WebhookDelivery
from deployments.webhook_payloads import BadPayload, read, shown_headers, why_not_deployed
from deployments.webhook_signatures import (
    Provider,
    Refused,
    hex_signature,
    new_secret,
    standard_signature,
    verify,
)
from panel.models import AuditEvent, Job, JobStatus
from tests.conftest import Crew

NOW = 1_800_000_000.0
SHA = "a" * 40
OTHER_SHA = "b" * 40


def test_github_s_documented_vector() -> None:
    secret, body = "It's a Secret to Everybody", b"Hello, World!"
    expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert hex_signature(secret, body) == expected
    verify(Provider.GITHUB, secret, {"x-hub-signature-256": f"sha256={expected}"}, body, NOW)


@pytest.mark.parametrize(
    ("provider", "headers", "problem"),
    [
        (Provider.GITHUB, {}, "no signature"),
        (Provider.GITHUB, {"x-hub-signature-256": ""}, "no signature"),
        (Provider.GITHUB, {"x-hub-signature-256": "sha1=00"}, "start with"),
        (Provider.GITHUB, {"x-hub-signature-256": "sha256=" + "0" * 64}, "does not match"),
        (Provider.GITEA, {"x-gitea-signature": "0" * 64}, "does not match"),
        (Provider.GITEA, {}, "no signature"),
        (Provider.GITLAB, {"x-gitlab-token": ""}, "no token"),
        (Provider.GITLAB, {"x-gitlab-token": "guess"}, "does not match"),
        (Provider.GENERIC, {}, "lacks"),
    ],
)
def test_a_wrong_or_empty_signature_is_refused(
    provider: Provider, headers: dict[str, str], problem: str
) -> None:
    with pytest.raises(Refused, match=problem):
        verify(provider, "s3cret", headers, b"{}", NOW)


@pytest.mark.parametrize("provider", list(Provider))
def test_an_empty_secret_refuses_every_delivery(provider: Provider) -> None:
    body = b"{}"
    headers = {
        "x-hub-signature-256": "sha256=" + hex_signature("", body),
        "x-gitea-signature": hex_signature("", body),
        "x-gitlab-token": "",
        **signed_headers("", "d1", body, NOW),
    }
    with pytest.raises(Refused, match="no secret"):
        verify(provider, "", headers, body, NOW)


def test_gitea_and_forgejo_sign_with_bare_hex() -> None:
    body = b'{"ref": "refs/heads/main"}'
    verify(
        Provider.GITEA, "s3cret", {"x-gitea-signature": hex_signature("s3cret", body)}, body, NOW
    )
    forgejo = {"x-forgejo-signature": hex_signature("s3cret", body)}
    verify(Provider.GITEA, "s3cret", forgejo, body, NOW)
    with pytest.raises(Refused):
        verify(Provider.GITEA, "s3cret", forgejo, body + b" ", NOW)


def test_gitlab_s_token_and_its_signed_format() -> None:
    secret = new_secret()
    verify(Provider.GITLAB, secret, {"x-gitlab-token": secret}, b"{}", NOW)
    body = b'{"object_kind": "push"}'
    verify(Provider.GITLAB, secret, signed_headers(secret, "d1", body, NOW - 299), body, NOW)
    with pytest.raises(Refused, match="301 s away"):
        verify(Provider.GITLAB, secret, signed_headers(secret, "d1", body, NOW - 301), body, NOW)
    with pytest.raises(Refused, match="away from now"):
        verify(Provider.GITLAB, secret, signed_headers(secret, "d1", body, NOW + 600), body, NOW)
    tampered = signed_headers(secret, "d1", body, NOW) | {"webhook-id": "d2"}
    with pytest.raises(Refused, match="does not match"):
        verify(Provider.GITLAB, secret, tampered, body, NOW)
    # A signed delivery is checked by its signature, even when it also carries a token.
    wrong = signed_headers("another", "d1", body, NOW) | {"x-gitlab-token": secret}
    with pytest.raises(Refused):
        verify(Provider.GITLAB, secret, wrong, body, NOW)


def test_standard_signature_takes_any_of_several_and_the_whsec_key() -> None:
    secret = new_secret()
    body = b"{}"
    headers = signed_headers(secret, "d1", body, NOW)
    headers["webhook-signature"] = "v1,bm90IGl0 " + headers["webhook-signature"]
    verify(Provider.GENERIC, secret, headers, body, NOW)
    with pytest.raises(Refused, match="not a number"):
        verify(Provider.GENERIC, secret, headers | {"webhook-timestamp": "soon"}, body, NOW)


def test_pushes_are_read_the_same_way_for_each_provider() -> None:
    github = read(
        Provider.GITHUB,
        {"x-github-event": "push", "x-github-delivery": "g-1"},
        json.dumps({"ref": "refs/heads/main", "after": SHA, "pusher": {"name": "ann"}}).encode(),
    )
    assert (github.is_push, github.ref, github.commit, github.pusher, github.delivery_id) == (
        True, "refs/heads/main", SHA, "ann", "g-1",
    )  # fmt: skip
    gitlab = read(
        Provider.GITLAB,
        {"x-gitlab-event": "Tag Push Hook", "idempotency-key": "l-1"},
        json.dumps(
            {
                "object_kind": "tag_push",
                "ref": "refs/tags/v1.2",
                "checkout_sha": SHA,
                "after": "0" * 40,
                "user_username": "bob",
            }
        ).encode(),
    )
    assert (gitlab.ref, gitlab.commit, gitlab.pusher, gitlab.delivery_id) == (
        "refs/tags/v1.2", SHA, "bob", "l-1",
    )  # fmt: skip
    forgejo = read(
        Provider.GITEA,
        {"x-forgejo-event": "push", "x-forgejo-delivery": "f-1"},
        json.dumps({"ref": "refs/heads/main", "after": SHA, "pusher": {"login": "cy"}}).encode(),
    )
    assert (forgejo.commit, forgejo.pusher, forgejo.delivery_id) == (SHA, "cy", "f-1")
    generic = read(
        Provider.GENERIC,
        {"webhook-id": "x-1"},
        json.dumps({"ref": "main", "commit": SHA.upper(), "pusher": "ci"}).encode(),
    )
    assert (generic.ref, generic.commit, generic.pusher) == ("refs/heads/main", SHA, "ci")


def test_a_form_encoded_github_push_and_a_ping_are_read() -> None:
    payload = json.dumps({"ref": "refs/heads/main", "after": SHA})
    form = read(
        Provider.GITHUB,
        {"content-type": "application/x-www-form-urlencoded", "x-github-event": "push"},
        urlencode({"payload": payload}).encode(),
    )
    assert form.commit == SHA and form.delivery_id.startswith("body:")
    ping = read(Provider.GITHUB, {"x-github-event": "ping"}, b'{"zen": "Keep it simple."}')
    assert ping.is_ping and not ping.is_push


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", json.dumps({"ref": "refs/heads/main", "after": "$(reboot)"}).encode()],
)
def test_a_body_that_is_not_a_readable_push_is_refused(body: bytes) -> None:
    with pytest.raises(BadPayload):
        read(Provider.GITHUB, {"x-github-event": "push"}, body)


def test_which_pushes_deploy() -> None:
    assert why_not_deployed("main", "", "refs/heads/main", SHA) == ""
    assert "not the one" in why_not_deployed("main", "", "refs/heads/dev", SHA)
    assert why_not_deployed("main", "v*", "refs/tags/v2.0", SHA) == ""
    assert "does not match" in why_not_deployed("main", "v*", "refs/tags/nightly", SHA)
    assert "does not match" in why_not_deployed("main", "", "refs/tags/v2.0", SHA)
    assert "deleted" in why_not_deployed("main", "", "refs/heads/main", "")
    assert "neither" in why_not_deployed("main", "", "refs/notes/x", SHA)


def test_headers_are_shown_without_signatures_or_tokens() -> None:
    shown = shown_headers(
        {
            "x-hub-signature-256": "sha256=abc",
            "x-hub-signature": "sha1=abc",
            "x-gitlab-token": "t",
            "webhook-signature": "v1,x",
            "x-github-event": "push",
            "user-agent": "GitHub-Hookshot/1\x00",
        }
    )
    assert shown == {"user-agent": "GitHub-Hookshot/1?", "x-github-event": "push"}


# Receiving, with the database.


def signed_headers(secret: str, delivery_id: str, body: bytes, at: float) -> dict[str, str]:
    stamp = str(int(at))
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": stamp,
        "webhook-signature": standard_signature(secret, delivery_id, stamp, body),
    }


def github_push(
    secret: str, commit: str, *, ref: str = "refs/heads/main", delivery: str = ""
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {"ref": ref, "before": "0" * 40, "after": commit, "pusher": {"name": "ann"}}
    ).encode()
    headers = {
        "x-github-event": "push",
        "x-github-delivery": delivery or str(uuid.uuid4()),
        "x-hub-signature-256": "sha256=" + hex_signature(secret, body),
        "content-type": "application/json",
    }
    return headers, body


@pytest.fixture
def git_app(app: App) -> App:
    App.objects.filter(pk=app.pk).update(git_url="https://git.example.com/acme/shop.git")
    app.refresh_from_db()
    return app


@pytest.fixture
def hook(crew: Crew, git_app: App) -> tuple[Webhook, str]:
    secret = webhook_services.set_up(
        crew.actor(crew.admin), git_app, provider="github", branch="main", tag_pattern="v*"
    )
    return Webhook.objects.get(app=git_app), secret


def take_received() -> list[str]:
    """What the worker does with each received push, oldest first."""
    received = WebhookDelivery.objects.filter(result=DeliveryResult.RECEIVED).order_by("pk")
    return [webhook_services.take_push(pk) for pk in received.values_list("pk", flat=True)]


def post(client: Client, webhook: Webhook, headers: dict[str, str], body: bytes) -> Any:
    sent = {name: value for name, value in headers.items() if name != "content-type"}
    return client.post(
        reverse("webhook_receive", args=[webhook.pk]),
        body,
        content_type=headers.get("content-type", "application/json"),
        headers=sent,
    )


def test_a_signed_push_deploys_its_exact_commit_as_the_webhook(
    client: Client, hook: tuple[Webhook, str]
) -> None:
    webhook, secret = hook
    response = post(client, webhook, *github_push(secret, SHA))
    assert (response.status_code, response.content) == (
        202,
        f"Received: {SHA[:12]} deploys.\n".encode(),
    )
    assert not Job.objects.exists()  # the answer does not wait for the deploy's start
    assert take_received() == ["deployed"]
    job = Job.objects.get(kind="app.deploy")
    assert Release.objects.get(job=job).version == SHA
    assert job.actor_label == "GitHub webhook, pushed by ann"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.result, delivery.job, delivery.commit) == (DeliveryResult.DEPLOYED, job, SHA)
    assert "x-hub-signature-256" not in delivery.headers
    event = AuditEvent.objects.get(action="job.app.deploy")
    assert (event.actor_type, event.actor_label) == ("webhook", "GitHub webhook, pushed by ann")
    assert event.details["version"] == SHA and event.details["job"] == job.pk
    assert (event.details["webhook"], event.details["pusher"]) == ("github", "ann")
    assert event.details["delivery"] == delivery.delivery_id


def test_redeliveries_and_replays_deploy_nothing(client: Client, hook: tuple[Webhook, str]) -> None:
    webhook, secret = hook
    headers, body = github_push(secret, SHA, delivery="d-1")
    assert post(client, webhook, headers, body).status_code == 202
    take_received()
    Job.objects.update(status=JobStatus.SUCCEEDED)
    again = post(client, webhook, headers, body)
    assert (again.status_code, again.content) == (200, b"Already received (deploy started).\n")
    replay = post(client, webhook, headers | {"x-github-delivery": "d-2"}, body)
    assert replay.status_code == 200
    assert Job.objects.count() == 1 and WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"x-hub-signature-256": ""},
        {"x-hub-signature-256": "sha256=" + "0" * 64},
        {"x-hub-signature-256": "sha256=" + hex_signature("", b"{}")},
    ],
)
def test_a_bad_signature_stores_and_deploys_nothing_and_is_counted(
    client: Client, hook: tuple[Webhook, str], headers: dict[str, str]
) -> None:
    webhook, secret = hook
    good, body = github_push(secret, SHA)
    response = post(client, webhook, good | headers, body)
    assert response.status_code == 401
    assert not Job.objects.exists() and not WebhookDelivery.objects.exists()
    webhook.refresh_from_db()
    assert webhook.refused_count == 1 and webhook.last_refused_reason


def test_unknown_webhooks_get_and_big_bodies_are_refused(
    client: Client, hook: tuple[Webhook, str]
) -> None:
    webhook, secret = hook
    unknown = client.post(
        reverse("webhook_receive", args=[uuid.uuid4()]), b"{}", "application/json"
    )
    assert unknown.status_code == 404
    assert client.get(reverse("webhook_receive", args=[webhook.pk])).status_code == 405
    body = b" " * (25 * 1024 * 1024 + 1)
    huge = post(
        client, webhook, {"x-hub-signature-256": "sha256=" + hex_signature(secret, body)}, body
    )
    assert huge.status_code == 413
    assert not Job.objects.exists()


def test_pings_and_other_branches_are_answered_and_deploy_nothing(
    client: Client, hook: tuple[Webhook, str]
) -> None:
    webhook, secret = hook
    body = b'{"zen": "Design for failure."}'
    ping = {"x-github-event": "ping", "x-github-delivery": "p-1"}
    ping["x-hub-signature-256"] = "sha256=" + hex_signature(secret, body)
    assert post(client, webhook, ping, body).status_code == 200
    other = post(client, webhook, *github_push(secret, SHA, ref="refs/heads/dev"))
    assert other.status_code == 202
    assert "branch dev is not the one that deploys (main)" in other.content.decode()
    tag = post(client, webhook, *github_push(secret, OTHER_SHA, ref="refs/tags/v3"))
    assert tag.status_code == 202 and tag.content.startswith(b"Received")
    take_received()
    results = list(WebhookDelivery.objects.order_by("pk").values_list("result", flat=True))
    assert results == [DeliveryResult.PING, DeliveryResult.IGNORED, DeliveryResult.DEPLOYED]


def test_a_burst_of_pushes_keeps_only_the_newest_waiting_and_deploys_it_after(
    crew: Crew, client: Client, hook: tuple[Webhook, str], git_app: App
) -> None:
    webhook, secret = hook
    first, second, third = "1" * 40, "2" * 40, "3" * 40
    post(client, webhook, *github_push(secret, first))
    take_received()
    running = Job.objects.get()
    post(client, webhook, *github_push(secret, second))
    assert take_received() == ["queued"]
    assert WebhookDelivery.objects.get(commit=second).reason == f"waits for job #{running.pk}"
    post(client, webhook, *github_push(secret, third))
    take_received()
    assert f"replaces {second[:12]}" in WebhookDelivery.objects.get(commit=third).reason
    assert Job.objects.count() == 1
    client.force_login(crew.viewer)
    page = client.get(reverse("app_webhook", args=[git_app.pk]))
    assert "queued: commit 333333333333, waits for job" in page.content.decode()

    assert webhook_services.start_waiting(git_app) is None  # the first still runs
    Job.objects.filter(pk=running.pk).update(status=JobStatus.SUCCEEDED)
    job = webhook_services.start_waiting(git_app)
    assert job is not None and Release.objects.get(job=job).version == third
    rows = dict(WebhookDelivery.objects.values_list("commit", "result"))
    assert rows == {
        first: DeliveryResult.DEPLOYED,
        second: DeliveryResult.REPLACED,
        third: DeliveryResult.DEPLOYED,
    }
    assert webhook_services.start_all_waiting() == 0


def test_a_push_the_app_cannot_deploy_says_why(
    client: Client, hook: tuple[Webhook, str], git_app: App
) -> None:
    webhook, secret = hook
    git_app.roles.all().delete()
    post(client, webhook, *github_push(secret, SHA))
    assert take_received() == ["refused"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.result == DeliveryResult.REFUSED and "has no servers yet" in delivery.reason


def test_pushes_taken_out_of_order_keep_the_newest(
    client: Client, hook: tuple[Webhook, str]
) -> None:
    webhook, secret = hook
    post(client, webhook, *github_push(secret, "1" * 40))
    post(client, webhook, *github_push(secret, "2" * 40))
    older, newer = WebhookDelivery.objects.order_by("pk")
    assert webhook_services.take_push(newer.pk) == "deployed"
    assert webhook_services.take_push(older.pk) == "replaced"
    assert webhook_services.take_push(older.pk) == "taken already"
    older.refresh_from_db()
    assert older.replaced_by == newer and Job.objects.count() == 1


def test_a_received_push_whose_message_was_lost_is_taken_by_the_tick(
    client: Client, hook: tuple[Webhook, str]
) -> None:
    webhook, secret = hook
    post(client, webhook, *github_push(secret, SHA))
    webhook_services.start_all_waiting()
    assert not Job.objects.exists()  # not yet: its message may still arrive
    WebhookDelivery.objects.update(received_at=timezone.now() - timedelta(minutes=1))
    webhook_services.start_all_waiting()
    assert WebhookDelivery.objects.get().result == DeliveryResult.DEPLOYED


def test_only_admins_set_up_webhooks_and_the_secret_is_shown_once(
    crew: Crew, client: Client, git_app: App
) -> None:
    url = reverse("app_webhook", args=[git_app.pk])
    form = {"provider": "gitlab", "branch": "main", "tag_pattern": ""}
    client.force_login(crew.deployer)
    assert client.post(url, form).status_code == 403
    client.force_login(crew.outsider)
    assert client.get(url).status_code == 404
    client.force_login(crew.admin)
    created = client.post(url, form)
    secret = Webhook.objects.get().secret.reveal()
    assert secret.startswith("whsec_") and secret in created.content.decode()
    again = client.get(url)
    assert secret not in again.content.decode()
    assert f"/hooks/{Webhook.objects.get().pk}" in again.content.decode()
    replaced = client.post(reverse("app_webhook_secret", args=[git_app.pk]))
    assert Webhook.objects.get().secret.reveal() in replaced.content.decode()
    assert AuditEvent.objects.filter(action="app.webhook.secret").exists()
    client.post(reverse("app_webhook_remove", args=[git_app.pk]))
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("branch", "-x"), ("branch", "a..b"), ("branch", SHA), ("tag_pattern", "v*;reboot")],
)
def test_bad_webhook_settings_are_named(
    crew: Crew, client: Client, git_app: App, field: str, value: str
) -> None:
    client.force_login(crew.admin)
    form = {"provider": "github", "branch": "main", "tag_pattern": ""} | {field: value}
    response = client.post(reverse("app_webhook", args=[git_app.pk]), form)
    assert response.status_code == 200 and not Webhook.objects.exists()
    assert response.context["form"].errors[field]


def test_an_image_app_gets_no_webhook(crew: Crew, client: Client, app: App) -> None:
    client.force_login(crew.admin)
    form = {"provider": "github", "branch": "main", "tag_pattern": ""}
    client.post(reverse("app_webhook", args=[app.pk]), form)
    assert not Webhook.objects.exists()


def test_the_refusal_count_is_shown(client: Client, crew: Crew, hook: tuple[Webhook, str]) -> None:
    webhook, _ = hook
    post(client, webhook, *github_push("a wrong secret", SHA))
    client.force_login(crew.viewer)
    page = client.get(reverse("app_webhook", args=[webhook.app.pk])).content.decode()
    assert "1 delivery refused" in page and "does not match" in page
