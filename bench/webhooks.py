"""Git-push deliveries against a running panel (uvicorn, the embedded SQLite defaults): 200
GitHub-signed deliveries at 50/s, one in ten a redelivery, some for a branch that does not
deploy. Each matching push is for its own app, so every one must start exactly one deploy.

The baseline, in the same run and over the same HTTP client, is a bare ASGI endpoint that
reads the body and checks its signature, and does nothing else.
Goal (DESIGN): p95 answer under 100 ms; deploys = unique matching pushes; none lost.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bench.panel_env import setup_django
from tests.lab.proc import answers, free_port, wait_for

DELIVERIES = 200
PER_SECOND = 50
REDELIVERED = DELIVERIES // 10
KEY = "bench-key"  # the webhooks' secret, as the bare endpoint knows it too
IGNORED = 20
ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """
import hashlib, hmac
SECRET = b"bench-key"
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    sent = dict(scope["headers"]).get(b"x-hub-signature-256", b"")
    wanted = b"sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode()
    status = 202 if hmac.compare_digest(sent, wanted) else 401
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


@contextmanager
def serve(target: str, directory: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "error"],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(url + "/up") or answers(url), "the server", 30)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def make_pushes() -> list[tuple[str, dict[str, str], bytes]]:
    """(webhook URL path, headers, body) for every delivery, in sending order."""
    from deployments import webhook_services
    from deployments.models import App, Role, Webhook
    from panel.audit import Actor
    from panel.models import Team
    from servers.models import HostKeyState, Server, SshKey

    team = Team.objects.create(name="Bench", slug="bench")
    key = SshKey.objects.create(
        team=team, name="k", public_key="ssh-ed25519 AAAA", fingerprint="SHA256:x", private_key="k"
    )
    server = Server.objects.create(
        team=team, name="web", host="10.0.0.5", ssh_key=key, host_key_state=HostKeyState.TRUSTED
    )
    actor = Actor.system("bench")
    unique: list[tuple[str, dict[str, str], bytes]] = []
    hooks: list[Webhook] = []
    for n in range(DELIVERIES - REDELIVERED):
        if n < DELIVERIES - REDELIVERED - IGNORED:
            app = App.objects.create(
                team=team, name=f"app{n}", image=f"bench/app{n}", git_url="/srv/app.git"
            )
            Role.objects.create(app=app, name="web").servers.set([server])
            webhook_services.set_up(actor, app, provider="github", branch="main", tag_pattern="")
            hook = Webhook.objects.get(app=app)
            hook.secret = KEY
            hook.save()
            hooks.append(hook)
            branch = "main"
        else:
            hook, branch = hooks[n % len(hooks)], "dev"  # an earlier app; dev does not deploy
        body = json.dumps(
            {
                "ref": f"refs/heads/{branch}",
                "after": uuid.uuid4().hex + "0" * 8,
                "pusher": {"name": "bench"},
            }
        ).encode()
        unique.append((f"/hooks/{hook.pk}", signed(body), body))
    again = random.Random(7).sample(unique, REDELIVERED)
    return unique + again


def signed(body: bytes) -> dict[str, str]:
    from deployments.webhook_signatures import hex_signature

    return {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": str(uuid.uuid4()),
        "x-hub-signature-256": "sha256=" + hex_signature(KEY, body),
    }


def send_all(
    base: str, deliveries: list[tuple[str, dict[str, str], bytes]]
) -> list[tuple[float, int]]:
    """(seconds to the answer, status) per delivery, sent at PER_SECOND."""
    import httpx

    client = httpx.Client(base_url=base, timeout=10)
    start = time.monotonic()

    def one(index: int) -> tuple[float, int]:
        path, headers, body = deliveries[index]
        time.sleep(max(0.0, start + index / PER_SECOND - time.monotonic()))
        sent = time.monotonic()
        status = client.post(path, content=body, headers=headers).status_code
        return time.monotonic() - sent, status

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, range(len(deliveries))))


def main() -> None:
    setup_django()
    from deployments.models import DeliveryResult, WebhookDelivery
    from panel.models import Job

    deliveries = make_pushes()
    unsigned = [(path, {"x-github-event": "push"}, b"{}") for path, _, _ in deliveries[:3]]
    with serve("panel.asgi:application", ROOT) as url:
        send_all(url, unsigned)  # warm: the first requests import the views; refused
        answers_panel = send_all(url, deliveries)
    bare_dir = Path(os.environ["PANEL_DATA_DIR"])
    (bare_dir / "bare_hook.py").write_text(BARE_APP)
    with serve("bare_hook:app", bare_dir) as url:
        send_all(url, unsigned)
        answers_bare = send_all(url, deliveries)

    expected = DELIVERIES - REDELIVERED - IGNORED
    deploys = Job.objects.filter(kind="app.deploy").count()
    stored = WebhookDelivery.objects.count()
    deployed = WebhookDelivery.objects.filter(result=DeliveryResult.DEPLOYED).count()
    failed = sum(status >= 300 for _, status in answers_panel)
    lost = (DELIVERIES - REDELIVERED) - stored + (expected - deployed)
    panel_p95 = p95([seconds for seconds, _ in answers_panel]) * 1000
    bare_p95 = p95([seconds for seconds, _ in answers_bare]) * 1000
    print(
        f"deliveries: {DELIVERIES} at {PER_SECOND}/s, {REDELIVERED} of them again, "
        f"{IGNORED} for a branch that does not deploy"
    )
    print(f"answers not 2xx: {failed}")
    print(f"panel median: {statistics.median(s for s, _ in answers_panel) * 1000:.1f} ms")
    print(f"bare p95: {bare_p95:.1f} ms")
    print(f"p95: {panel_p95:.1f} ms")
    print(f"deploys: {deploys}")
    print(f"expected: {expected}")
    print(f"lost: {lost}")


if __name__ == "__main__":
    main()
