"""On the lab: a `git push` to a repository whose hook signs and posts the push the way GitHub
does makes the panel build and deploy that commit (the worker's part, taking the received push
and running the deploy, is called here); each provider's real signed request is
taken, and wrong, empty, replayed and stale ones deploy nothing."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from deployments import webhook_services
from deployments.models import App, DeliveryResult, Release, Role, Webhook, WebhookDelivery
from deployments.operations.deploy import deploy
from deployments.webhook_signatures import hex_signature, standard_signature
from panel.jobs.runner import run_job
from panel.models import Job
from servers.models import Server
from tests.conftest import Crew, new_server
from tests.deployments.conftest import MakeApp, log_of, wait_for_body
from tests.deployments.test_git_lab import commit, new_repo

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]

# What a provider does on a push, as a post-receive hook: sign the body with the secret.
POST_RECEIVE = """#!/bin/sh
while read old new ref; do
  body=$(printf '{"ref":"%s","before":"%s","after":"%s","pusher":{"name":"lab"}}' \
    "$ref" "$old" "$new")
  signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$(cat "$GIT_DIR/hook-secret")" \
    | sed 's/^.* //')
  curl -sS -o /dev/null -w 'panel answered %{http_code}\\n' -X POST \
    -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
    -H "X-GitHub-Delivery: $(cat /proc/sys/kernel/random/uuid)" \
    -H "X-Hub-Signature-256: sha256=$signature" --data-binary "$body" "$(cat "$GIT_DIR/hook-url")"
done
"""


def send(url: str, headers: dict[str, str], body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def push_body(ref: str, sha: str) -> bytes:
    """A push as each provider words it: GitHub and Gitea `after`, GitLab `checkout_sha`, the
    generic sender `commit`."""
    fields = {"ref": ref, "after": sha, "checkout_sha": sha, "commit": sha, "pusher": "x"}
    return json.dumps(fields).encode()


def test_a_git_push_builds_and_deploys_the_pushed_commit(
    crew: Crew,
    web_servers: list[Server],
    make_app: MakeApp,
    tmp_path: Path,
    live_server: object,
) -> None:
    work, served = tmp_path / "work", tmp_path / "served.git"
    new_repo(work, "hook-one")
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(served)], check=True)
    app = make_app(
        "hooked",
        web_servers[:1],
        image="panel-lab/hooked",
        registry_username="",
        git_url=str(served),
        git_branch="main",
    )
    secret = webhook_services.set_up(
        crew.actor(crew.admin), app, provider="github", branch="main", tag_pattern=""
    )
    webhook = Webhook.objects.get(app=app)
    url = f"{live_server}/hooks/{webhook.pk}"
    (served / "hook-secret").write_text(secret)
    (served / "hook-url").write_text(url)
    hook = served / "hooks" / "post-receive"
    hook.write_text(POST_RECEIVE)
    hook.chmod(0o755)

    pushed = commit(work, "hook-two")
    git = ["git", "-C", str(work)]
    subprocess.run([*git, "remote", "add", "origin", str(served)], check=True)
    result = subprocess.run(
        [*git, "push", "-q", "origin", "main"], check=True, capture_output=True, text=True
    )
    assert "panel answered 202" in result.stderr, result.stderr
    assert webhook_services.take_push(WebhookDelivery.objects.get().pk) == "deployed"
    job = Job.objects.get(kind="app.deploy", target_id=str(app.pk))
    assert job.actor_label == "GitHub webhook, pushed by lab"
    assert run_job(job.pk, deploy) == "succeeded", log_of(job)
    release = Release.objects.get(job=job)
    assert release.commit == pushed and pushed.startswith(release.version)
    wait_for_body(web_servers[0], "hooked.lab.test", b"hook-two")

    # A push to another branch deploys nothing; the page shows it.
    subprocess.run([*git, "checkout", "-q", "-b", "feature"], check=True)
    commit(work, "not-deployed")
    subprocess.run([*git, "push", "-q", "origin", "feature"], check=True, capture_output=True)
    assert Job.objects.filter(kind="app.deploy").count() == 1
    ignored = WebhookDelivery.objects.get(ref="refs/heads/feature")
    assert ignored.result == DeliveryResult.IGNORED


@pytest.mark.parametrize("provider", ["github", "gitlab", "gitea", "generic"])
def test_each_provider_s_signed_push_is_taken_and_forgeries_are_not(
    crew: Crew, queued_app: App, live_server: object, provider: str
) -> None:
    secret = webhook_services.set_up(
        crew.actor(crew.admin), queued_app, provider=provider, branch="main", tag_pattern=""
    )
    url = f"{live_server}/hooks/{Webhook.objects.get(app=queued_app).pk}"
    sha = uuid.uuid4().hex + "0" * 8
    body = push_body("refs/heads/main", sha)
    now, delivery = int(time.time()), str(uuid.uuid4())
    good = signed(provider, secret, body, delivery, now)
    forged = signed(provider, "forged", body, delivery, now)
    empty = {name: "" if "signature" in name.lower() else value for name, value in good.items()}
    assert send(url, forged, body) == 401
    assert send(url, empty, body) == 401
    assert send(url, good, body + b" ") == 401
    if provider in ("gitlab", "generic"):
        assert send(url, signed(provider, secret, body, delivery, now - 301), body) == 401
    if provider == "gitlab":
        assert send(url, {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "forged"}, body) == 401
    assert Job.objects.count() == 0
    assert send(url, good, body) == 202
    assert send(url, good, body) == 200  # sent again: already received
    assert webhook_services.take_push(WebhookDelivery.objects.get().pk) == "deployed"
    assert Job.objects.count() == 1
    assert Release.objects.get().version == sha


def signed(provider: str, key: str, body: bytes, delivery: str, at: int) -> dict[str, str]:
    """The headers the provider sends with a push signed with `key`."""
    json_body = {"Content-Type": "application/json"}
    if provider == "github":
        signature = "sha256=" + hex_signature(key, body)
        return json_body | {
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": signature,
        }
    if provider == "gitea":
        return json_body | {
            "X-Forgejo-Event": "push",
            "X-Forgejo-Delivery": delivery,
            "X-Forgejo-Signature": hex_signature(key, body),
        }
    event = {"X-Gitlab-Event": "Push Hook"} if provider == "gitlab" else {}
    return (
        json_body
        | event
        | {
            "webhook-id": delivery,
            "webhook-timestamp": str(at),
            "webhook-signature": standard_signature(key, delivery, str(at), body),
        }
    )


@pytest.fixture
def queued_app(crew: Crew) -> App:
    """A git app on a server record: its deploys are only queued here, never run."""
    app = App.objects.create(
        team=crew.team, name="signed", image="panel-lab/signed", git_url="/srv/signed.git"
    )
    Role.objects.create(app=app, name="web").servers.set([new_server(crew)])
    return app
