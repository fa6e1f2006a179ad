"""What must hold when things go wrong during a deploy, on the lab's real hosts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from deployments import services
from deployments.commands import paths
from deployments.models import Container, Release, ReleaseStatus
from deployments.operations.deploy import deploy
from panel.jobs import locks
from panel.jobs.reaper import reap_stale
from panel.jobs.runner import run_job
from panel.models import Job, JobStatus
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp, job_for, log_of, wait_for_body
from tests.deployments.test_deploy_lab import containers_on, deploy_version
from tests.deployments.test_git_lab import new_repo
from tests.lab import hosts as lab_hosts
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]

TRICKY_VALUES = {
    "MULTI_LINE": "first line\nsecond line\n\nfourth\n",
    "QUOTES": "it's \"quoted\" and 'single'",
    "SUBSHELL": "$(touch /tmp/canary-env) ${HOME} `touch /tmp/canary-env`",
    "BIG": "x" * 100_000,
    "SPACES": "  leading and trailing  ",
}
CANARY = "canary-7f3e9-do-not-leak"


def _exec(server: Server, argv: list[str]) -> str:
    target = target_for(server)
    return asyncio.run(ssh.run(target, argv, timeout=60)).stdout


def _env_in(server: Server, container: str, key: str) -> str:
    """A variable's value as the container's processes see it (busybox has no printenv)."""
    return _exec(server, ["docker", "exec", container, "/bin/sh", "-c", f'printf %s "${key}"'])


def test_env_values_arrive_byte_identical(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[0]
    app = make_app("envcheck", [server])
    for key, value in TRICKY_VALUES.items():
        services.set_env(crew.actor(crew.admin), app, key, value, secret=key == "SUBSHELL")
    outcome, release = deploy_version(crew, app, "v1")
    assert outcome == "succeeded", release.log  # type: ignore[attr-defined]
    name = Container.objects.get(release=release).name
    for key, value in TRICKY_VALUES.items():
        assert _env_in(server, name, key) == value, key
    assert not Path("/tmp/canary-env").exists()
    mode = _exec(server, ["stat", "-c", "%a", f".panel/apps/{app.name}/web.env"]).strip()
    assert mode == "600"


def test_a_secret_never_reaches_logs_process_lists_or_the_broker(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[1]
    app = make_app("leakcheck", [server])
    services.set_env(crew.actor(crew.admin), app, "API_KEY", CANARY, secret=True)
    messages = _messages_sent_to_redis(
        lab, lambda: services.start_deploy(crew.actor(crew.deployer), app, version="slow")
    )
    assert messages and all(CANARY not in m for m in messages)
    job = Job.objects.get(kind="app.deploy", target_id=str(app.pk))
    seen: list[str] = []
    watcher = threading.Thread(target=lambda: seen.extend(_process_lists(server, 12)))
    watcher.start()
    assert run_job(job.pk, deploy) == "succeeded", log_of(job)
    watcher.join()
    assert seen and all(CANARY not in listing for listing in seen)
    assert CANARY not in log_of(job)
    running = Container.objects.get(release__app=app, running=True).name
    assert _env_in(server, running, "API_KEY") == CANARY


def _process_lists(server: Server, seconds: float) -> list[str]:
    """`ps` on the host, repeatedly, while the deploy runs."""
    target = target_for(server)
    listings, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        listings.append(asyncio.run(ssh.run(target, ["ps", "-eo", "args"])).stdout)
        time.sleep(0.2)
    return listings


def _messages_sent_to_redis(lab: Lab, send: object) -> list[str]:
    """What the broker receives when a deploy is queued (Redis, as in production)."""
    import redis

    from panel.celery import app as celery_app

    url = lab.redis_url.rsplit("/", 1)[0] + "/3"
    client = redis.Redis.from_url(url)
    client.flushdb()
    previous = celery_app.conf.broker_url
    _use_broker(url)
    try:
        send()  # type: ignore[operator]
    finally:
        _use_broker(previous)
    raw_messages: list[bytes] = client.lrange("celery", 0, -1)  # type: ignore[assignment]
    return [raw.decode() for raw in raw_messages]


def test_ssh_dropped_mid_deploy_fails_clearly_and_the_old_release_serves(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp
) -> None:
    server, host = web_servers[2], lab.hosts[2]
    app = make_app("dropped", [server], deploy_timeout=20)
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    cut, restored = threading.Event(), threading.Event()

    def cut_when_started() -> None:
        deadline = time.monotonic() + 20
        while not Container.objects.filter(release__app=app, release__version="slow").exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        connection.close()
        time.sleep(1.0)
        with lab_hosts.sshd_down(host.spec):
            cut.set()
            restored.wait(60)

    cutter = threading.Thread(target=cut_when_started)
    cutter.start()
    try:
        outcome, release = deploy_version(crew, app, "slow")
    finally:
        restored.set()
        cutter.join()
    assert cut.is_set() and outcome == "failed"
    assert "cannot connect" in release.log or "connection was lost" in release.log  # type: ignore[attr-defined]
    assert release.status == ReleaseStatus.FAILED
    asyncio.run(ssh.close_all())
    wait_for_body(server, "dropped.lab.test", b"v1")
    # The container it could not remove while cut off goes with the next deploy.
    assert deploy_version(crew, app, "v2")[0] == "succeeded"
    wait_for_body(server, "dropped.lab.test", b"v2")
    assert all("slow" not in line for line in containers_on(server, app))


def test_two_deploys_at_the_same_moment_run_one_at_a_time(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[0]
    app = make_app("racer", [server])
    first = Release.objects.create(app=app, version="v1", image=f"{app.image}:v1")
    second = Release.objects.create(app=app, version="v2", image=f"{app.image}:v2")
    jobs = [job_for(crew, "app.deploy", app, release=r.pk, kind="deploy") for r in (first, second)]
    outcomes: dict[int, str | None] = {}
    barrier = threading.Barrier(2)

    def go(job: Job) -> None:
        barrier.wait()
        outcomes[job.pk] = run_job(job.pk, deploy)
        connection.close()

    threads = [threading.Thread(target=go, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(str(o) for o in outcomes.values()) == ["failed", "succeeded"]
    loser = next(j for j in jobs if outcomes[j.pk] == "failed")
    loser.refresh_from_db()
    assert "is being deployed by job #" in loser.error
    assert locks.holder_of(app.lock_name) is None
    statuses = sorted(Release.objects.filter(app=app).values_list("status", flat=True))
    assert statuses == [ReleaseStatus.FAILED, ReleaseStatus.LIVE]


def test_a_killed_worker_is_reaped_and_its_container_removed(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp, settings: SettingsWrapper
) -> None:
    server = web_servers[1]
    app = make_app("killed", [server], deploy_timeout=30)
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    job = _kill_the_worker_when(
        lab,
        settings,
        lambda: services.start_deploy(crew.actor(crew.deployer), app, version="slow"),
        lambda job: Container.objects.filter(release_id=job.params["release"]).exists(),
    )
    release = Release.objects.get(pk=job.params["release"])
    assert job.status == JobStatus.INTERRUPTED and release.status == ReleaseStatus.FAILED
    assert locks.holder_of(app.lock_name) is None
    wait_for_body(server, "killed.lab.test", b"v1")
    assert all("slow" not in line for line in containers_on(server, app))
    assert not Container.objects.filter(release=release).exists()


def test_a_worker_killed_mid_build_leaves_no_build_secret_behind(
    crew: Crew,
    lab: Lab,
    web_servers: list[Server],
    make_app: MakeApp,
    settings: SettingsWrapper,
    tmp_path: Path,
) -> None:
    server = web_servers[2]
    repo = tmp_path / "slowbuild"
    # A step of its own each run: BuildKit would take an identical one from its cache.
    step = f"RUN --mount=type=secret,id=TOKEN echo {uuid.uuid4().hex} && sleep 20\n"
    new_repo(repo, "slow", f"FROM panel-lab/app:v1\n{step}")
    app = make_app("slowbuild", [server], image="panel-lab/slowbuild", registry_username="",
                   git_url=str(repo))  # fmt: skip
    services.set_env(crew.actor(crew.admin), app, "TOKEN", "mid-build-5ecr3t", secret=True,
                     for_containers=False, for_build=True)  # fmt: skip
    target = target_for(server)
    build_dir = paths.build_dir(app.name)
    asyncio.run(ssh.run(target, ["rm", "-rf", "--", build_dir]))

    def building(job: Job) -> bool:
        running = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists()
        return running and asyncio.run(ssh.run(target, ["test", "-d", build_dir], check=False)).ok

    job = _kill_the_worker_when(
        lab, settings, lambda: services.start_deploy(crew.actor(crew.deployer), app, version=""),
        building,
    )  # fmt: skip
    assert job.status == JobStatus.INTERRUPTED
    assert not asyncio.run(ssh.run(target, ["test", "-d", build_dir], check=False)).ok
    assert Release.objects.get(pk=job.params["release"]).status == ReleaseStatus.FAILED
    assert locks.holder_of(app.lock_name) is None


def _kill_the_worker_when(
    lab: Lab,
    settings: SettingsWrapper,
    start: Callable[[], Job],
    ready: Callable[[Job], bool],
) -> Job:
    """Start a worker and a job, SIGKILL the worker once `ready`, and let the reaper find
    the job (and its cleanup hooks run)."""
    worker = _start_worker(lab)
    try:
        job = start()
        deadline = time.monotonic() + 60
        while not ready(job):
            assert time.monotonic() < deadline, "the job never got ready to be cut short"
            time.sleep(0.2)
        time.sleep(1.0)
        os.killpg(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(10)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING, f"the job ended ({job.status}) before the kill"
    killed_at = time.monotonic()
    settings.PANEL_JOB_STALE_SECONDS = 3
    while not reap_stale():
        assert time.monotonic() - killed_at < 120, "the job was never reaped"
        time.sleep(0.5)
    job.refresh_from_db()
    return job


def _use_broker(url: str) -> None:
    from panel.celery import app as celery_app

    # The app caches its broker connection pools; drop them so the new URL takes effect.
    celery_app.conf.update(broker_url=url)
    vars(celery_app)["_pool"] = None
    vars(celery_app.amqp)["_producer_pool"] = None


def _start_worker(lab: Lab) -> subprocess.Popen[bytes]:
    database = django_settings.DATABASES["default"]["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": lab.redis_url.rsplit("/", 1)[0] + "/4",
        "PANEL_JOB_HEARTBEAT_SECONDS": "0.5",
        "PANEL_GIT_ALLOW_LOCAL": "true",
    }
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()

    _use_broker(env["REDIS_URL"])
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "panel",
            "worker",
            "-c",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        start_new_session=True,
    )
