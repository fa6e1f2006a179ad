"""Git-push deliveries against a running panel: 200 GitHub-signed deliveries at 50/s, one in
ten a redelivery, some for a branch that does not deploy. Each matching push is for its own
app, so every one must start exactly one deploy.

The panel's web server runs twice: as `manage.py serve` runs it (one uvicorn process, SQLite,
the local broker), and as compose.yaml runs it (gunicorn with two uvicorn workers, PostgreSQL
and Redis, here the lab's). A push is answered once it is stored; a worker then takes it and
creates its deploy. That worker takes pushes only: the deploys wait in their queue, as they do
behind the deploys a real worker runs, and their running is not part of the answer time.
The baseline, in the same run and over the same HTTP client, is a bare ASGI endpoint that
reads the body and checks its signature, and does nothing else.
Goal (DESIGN): p95 answer under 100 ms; deploys = unique matching pushes; none lost.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import redis

from bench.panel_env import setup_django
from panel import serving
from tests.lab import services as lab_services
from tests.lab.proc import answers, free_port, wait_for

DELIVERIES = 200
PER_SECOND = 50
REDELIVERED = DELIVERIES // 10
KEY = "bench-key"  # the webhooks' secret, as the bare endpoint knows it too
IGNORED = 20
WARM = 5
REDIS_DB = 9  # of the lab's Redis: no test's panel uses it
GIT_URL = "https://git.example.com/acme/app.git"
PUSH_WORKER = ["-m", "celery", "-A", "panel", "worker", "--queues", "webhooks", "--concurrency",
               "2", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]  # fmt: skip
Push = tuple[str, dict[str, str], bytes]
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
def serve(setup: str, directory: Path = ROOT) -> Iterator[str]:
    """The panel's web server as `manage.py serve` or compose.yaml runs it, or the bare
    endpoint."""
    port = free_port()
    commands = {
        "embedded": [["-m", "uvicorn", "panel.asgi:application", "--port", str(port),
                      "--log-level", "error", *serving.UVICORN_OPTIONS], PUSH_WORKER],
        "production": [
            ["-m", "gunicorn", "panel.asgi:application", "-k", "panel.serving.UvicornWorker",
             "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "error"], PUSH_WORKER,
        ],
        "bare": [["-m", "uvicorn", "bare_hook:app", "--port", str(port), "--log-level", "error"]],
    }  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = [
        subprocess.Popen([sys.executable, *argv], cwd=directory, env=env,
                         stdout=subprocess.DEVNULL, start_new_session=True)
        for argv in commands[setup]
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(url + "/up") or answers(url), "the server", 60)
        yield url
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(30)


def make_pushes() -> tuple[list[Push], list[Push]]:
    """(webhook URL path, headers, body) for every delivery, in sending order; and, first,
    pushes to other apps that warm the panel up (its first messages to its broker)."""
    from deployments import webhook_services
    from deployments.models import App, Role, Webhook
    from panel.audit import Actor
    from panel.models import Team
    from servers.models import HostKeyState, Server, SshKey

    team = Team.objects.create(name="Bench", slug="bench")
    key = SshKey.objects.create(
        team=team, name="k", public_key="ssh-ed25519 AAAA", fingerprint="SHA256:x", private_key="k"
    )
    server = Server.objects.create(team=team, name="web", host="192.0.2.1", ssh_key=key,
                                   host_key_state=HostKeyState.TRUSTED)  # fmt: skip
    actor = Actor.system("bench")
    unique: list[tuple[str, dict[str, str], bytes]] = []
    hooks: list[Webhook] = []
    for n in range(DELIVERIES - REDELIVERED + WARM):
        if n < DELIVERIES - REDELIVERED - IGNORED + WARM:
            app = App.objects.create(
                team=team, name=f"app{n}", image=f"bench/app{n}", git_url=GIT_URL
            )
            Role.objects.create(app=app, name="web").servers.set([server])
            webhook_services.set_up(actor, app, provider="github", branch="main", tag_pattern="")
            hook = Webhook.objects.get(app=app)
            hook.secret = KEY
            hook.save()
            hooks.append(hook)
            branch = "main"
        else:
            hook, branch = hooks[n % len(hooks)], "dev"  # an app of before; dev does not deploy
        body = json.dumps(
            {
                "ref": f"refs/heads/{branch}",
                "after": uuid.uuid4().hex + "0" * 8,
                "pusher": {"name": "bench"},
            }
        ).encode()
        unique.append((f"/hooks/{hook.pk}", signed(body), body))
    warm, measured = unique[:WARM], unique[WARM:]
    return measured + random.Random(7).sample(measured, REDELIVERED), warm


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


def measure(setup: str) -> dict[str, float]:
    """One setup's figures; the process's settings are that setup's."""
    if setup == "production":
        database = f"bench_{int(time.time())}"
        subprocess.run(["psql", lab_services.POSTGRES_URL, "-qc", f"CREATE DATABASE {database}"],
                       check=True)  # fmt: skip
        os.environ["DATABASE_URL"] = lab_services.POSTGRES_URL.rsplit("/", 1)[0] + f"/{database}"
        os.environ["REDIS_URL"] = lab_services.REDIS_URL.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    setup_django()
    from deployments.models import DeliveryResult, WebhookDelivery
    from panel.models import Job

    deliveries, warm = make_pushes()
    received = WebhookDelivery.objects.filter(result=DeliveryResult.RECEIVED)
    deploys = Job.objects.filter(kind="app.deploy")
    deployed = WebhookDelivery.objects.filter(result=DeliveryResult.DEPLOYED)
    if setup == "production":
        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # the deploys' messages wait
    with serve(setup) as url:
        send_all(url, warm)  # the first requests import the views and reach the broker
        wait_for(lambda: not received.exists(), "the worker to take the first pushes", 60)
        before = (deploys.count(), WebhookDelivery.objects.count(), deployed.count())
        answered = send_all(url, deliveries)
        wait_for(lambda: not received.exists(), "the worker to take every push", 180)
    figures = {
        "p95": p95([seconds for seconds, _ in answered]) * 1000,
        "median": statistics.median(seconds for seconds, _ in answered) * 1000,
        "not_2xx": sum(status >= 300 for _, status in answered),
        "deploys": deploys.count() - before[0],
        "stored": WebhookDelivery.objects.count() - before[1],
        "deployed": deployed.count() - before[2],
    }
    if setup == "production":
        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    if setup == "embedded":
        bare_dir = Path(os.environ["PANEL_DATA_DIR"])
        (bare_dir / "bare_hook.py").write_text(BARE_APP)
        with serve("bare", bare_dir) as url:
            send_all(url, warm)
            figures["bare_p95"] = p95([seconds for seconds, _ in send_all(url, deliveries)]) * 1000
    return figures


def main() -> None:
    if len(sys.argv) > 1:
        print(json.dumps(measure(sys.argv[1])))
        return
    lab_services.start_postgres()
    lab_services.start_redis()
    found = {}
    for setup in ("embedded", "production"):
        run = subprocess.run([sys.executable, "-m", "bench.webhooks", setup], cwd=ROOT,
                             capture_output=True, text=True, check=True)  # fmt: skip
        found[setup] = json.loads(run.stdout.strip().splitlines()[-1])
    expected = DELIVERIES - REDELIVERED - IGNORED
    embedded, production = found["embedded"], found["production"]
    print(f"deliveries: {DELIVERIES} at {PER_SECOND}/s, {REDELIVERED} of them again, "
          f"{IGNORED} for a branch that does not deploy")  # fmt: skip
    print(f"bare endpoint p95: {embedded['bare_p95']:.1f} ms")
    for setup, figures in found.items():
        print(f"{setup}: median {figures['median']:.1f} ms, p95 {figures['p95']:.1f} ms, "
              f"deploys {figures['deploys']}, answers not 2xx {figures['not_2xx']}")  # fmt: skip
    lost = max(_lost(figures, expected) for figures in found.values())
    print(f"p95 compose: {production['p95']:.0f} ms")
    print(f"p95: {embedded['p95']:.0f} ms")
    print(f"deploys: {embedded['deploys']}")
    print(f"expected: {expected}")
    print(f"lost: {lost}")


def _lost(figures: dict[str, float], expected: int) -> int:
    """Unique deliveries not stored, and matching ones stored without their deploy."""
    unique = DELIVERIES - REDELIVERED
    return int((unique - figures["stored"]) + (expected - figures["deployed"]))


if __name__ == "__main__":
    main()
