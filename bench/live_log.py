"""From a job's log line to the browser: a job writes stamped lines while a client follows the
job page's event stream over HTTP from a running panel (uvicorn), as a browser does.

Two panels run: one with Redis (lines wake the stream at once) and one without it, the
embedded default (the stream polls the database). The baseline, in the same run, is Redis
pub/sub alone: a message from one client to another, with no panel in between.
Goal (DESIGN): p95 under 300 ms.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.panel_env import setup_django
from tests.lab.proc import answers, free_port, wait_for

LINES = 300
EVERY_SECONDS = 0.02
ROOT = Path(__file__).resolve().parent.parent


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


@contextmanager
def panel_server(redis_url: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "panel.asgi:application",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{url}/up"), "the panel", 30)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def follow_job(url: str, username: str, password: str, redis_url: str) -> list[float]:
    """Latencies (seconds) of every stamped line, seen through the job's event stream."""
    import httpx
    from django.conf import settings

    from panel.jobs.runner import JobContext, run_job
    from panel.models import Job, Team

    settings.REDIS_URL = redis_url  # how this process, the job's worker, publishes
    job = Job.objects.create(team=Team.objects.get(slug="bench"), kind="bench.log",
                             actor_label="bench")  # fmt: skip
    client = httpx.Client(base_url=url, timeout=30)
    client.get("/login")
    client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    latencies: list[float] = []
    connected = threading.Event()

    def read() -> None:
        with client.stream("GET", f"/jobs/{job.pk}/stream") as response:
            for line in response.iter_lines():
                connected.set()
                if line.startswith("event: end"):
                    return
                if line.startswith("data: ") and "stamp " in line:
                    stamp = float(json.loads(line[6:])["text"].split()[1])
                    latencies.append(time.time() - stamp)

    def write(ctx: JobContext) -> None:
        for _ in range(LINES):
            ctx.log(f"stamp {time.time():.6f}")
            time.sleep(EVERY_SECONDS)

    reader = threading.Thread(target=read)
    reader.start()
    connected.wait(10)
    run_job(job.pk, write)
    reader.join(30)
    return latencies


def redis_floor(redis_url: str) -> list[float]:
    import redis

    subscriber = redis.Redis.from_url(redis_url).pubsub()  # type: ignore[no-untyped-call]
    subscriber.subscribe("bench-floor")
    subscriber.get_message(timeout=2)
    publisher = redis.Redis.from_url(redis_url)
    latencies = []
    for _ in range(LINES):
        publisher.publish("bench-floor", f"{time.time():.6f}")
        message = subscriber.get_message(ignore_subscribe_messages=True, timeout=2)
        assert message is not None
        latencies.append(time.time() - float(message["data"]))
        time.sleep(EVERY_SECONDS)
    return latencies


def main() -> None:
    setup_django()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.contrib.auth.models import User

    from panel.models import Membership, Role, Team
    from tests.lab.lab import describe

    redis_url = describe().redis_url.rsplit("/", 1)[0] + "/2"
    team = Team.objects.create(name="Bench", slug="bench")
    password = "bench-" + os.urandom(8).hex()
    user = User.objects.create_user("bench", password=password)
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)

    results = {"redis pub/sub alone": redis_floor(redis_url)}
    with panel_server(redis_url) as url:
        results["panel with Redis"] = follow_job(url, user.username, password, redis_url)
    with panel_server("") as url:
        results["panel without Redis"] = follow_job(url, user.username, password, "")
    for name, latencies in results.items():
        median = statistics.median(latencies) * 1000
        print(f"{name:<22} lines {len(latencies):>4}  median {median:6.1f} ms  "
              f"p95 {p95(latencies) * 1000:6.1f} ms")  # fmt: skip
    print(f"p95 ms with redis: {p95(results['panel with Redis']) * 1000:.1f}")
    print(f"p95 ms without redis: {p95(results['panel without Redis']) * 1000:.1f}")
    print(f"p95 ms redis alone: {p95(results['redis pub/sub alone']) * 1000:.1f}")


if __name__ == "__main__":
    main()
