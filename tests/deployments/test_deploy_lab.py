"""Deploys on the lab: real registry, real Docker, real Caddy switching upstreams."""

from __future__ import annotations

import asyncio
import time

import pytest

from deployments import services
from deployments.models import App, Container, Release, ReleaseStatus, Role
from deployments.operations.deploy import deploy
from panel.jobs.runner import run_job
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp, fetch, job_for, log_of, wait_for_body

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def deploy_version(
    crew: Crew, app: App, version: str, kind: str = "deploy"
) -> tuple[str | None, Release]:
    release = Release.objects.create(
        app=app, version=version, image=f"{app.image}:{version}", kind=kind, created_by_label="dora"
    )
    job = job_for(crew, f"app.{kind}", app, release=release.pk, kind=kind)
    outcome = run_job(job.pk, deploy)
    release.refresh_from_db()
    release.log = log_of(job)  # type: ignore[attr-defined]
    return outcome, release


def containers_on(server: Server, app: App) -> list[str]:
    target = target_for(server)
    listed = asyncio.run(
        ssh.run(
            target,
            [
                "docker",
                "ps",
                "-a",
                "--format",
                "{{.Names}} {{.State}}",
                "--filter",
                f"label=panel.app={app.name}",
            ],
        )
    )
    return sorted(listed.stdout.splitlines())


def test_deploy_v1_then_v2_then_roll_back(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[0]
    app = make_app("shop", [server])
    outcome, v1 = deploy_version(crew, app, "v1")
    assert outcome == "succeeded", v1.log  # type: ignore[attr-defined]
    wait_for_body(server, "shop.lab.test", b"v1")
    assert "--password-stdin" in v1.log and app.registry_password.reveal() not in v1.log  # type: ignore[attr-defined]

    outcome, v2 = deploy_version(crew, app, "v2")
    assert outcome == "succeeded", v2.log  # type: ignore[attr-defined]
    wait_for_body(server, "shop.lab.test", b"v2")
    v1.refresh_from_db()
    assert (v1.status, v2.status) == (ReleaseStatus.RETIRED, ReleaseStatus.LIVE)
    states = containers_on(server, app)
    assert len(states) == 2 and sum("running" in s for s in states) == 1

    outcome, back = deploy_version(crew, app, "v1", kind="rollback")
    assert outcome == "succeeded", back.log  # type: ignore[attr-defined]
    wait_for_body(server, "shop.lab.test", b"v1")
    app.refresh_from_db()
    assert app.current_release == back


def test_an_unhealthy_release_never_takes_traffic_and_leaves_nothing(
    crew: Crew,
    web_servers: list[Server],
    make_app: MakeApp,
) -> None:
    server = web_servers[0]
    app = make_app("sick", [server], deploy_timeout=4)
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    before = containers_on(server, app)
    started = time.monotonic()
    outcome, bad = deploy_version(crew, app, "unhealthy")
    assert outcome == "failed" and time.monotonic() - started < app.deploy_timeout + 5 + 5
    assert "did not become healthy" in bad.log and "last log lines" in bad.log  # type: ignore[attr-defined]
    # busybox httpd logs each request's peer: only the panel's health probes (from the host's
    # side of the network) reached the new container, never the proxy.
    assert "response:" in bad.log and _proxy_address(server) not in bad.log  # type: ignore[attr-defined]
    assert bad.status == ReleaseStatus.FAILED
    wait_for_body(server, "sick.lab.test", b"v1")
    assert containers_on(server, app) == before
    assert not Container.objects.filter(release=bad).exists()


def test_a_slow_starting_release_is_waited_for(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[1]
    app = make_app("slowpoke", [server], deploy_timeout=20)
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    outcome, slow = deploy_version(crew, app, "slow")
    assert outcome == "succeeded", slow.log  # type: ignore[attr-defined]
    wait_for_body(server, "slowpoke.lab.test", b"slow")


def test_old_releases_are_pruned_past_the_retained_count(
    crew: Crew,
    web_servers: list[Server],
    make_app: MakeApp,
) -> None:
    server = web_servers[2]
    app = make_app("pruned", [server], retain_releases=2, drain_timeout=0)
    for version in ("v1", "v2", "v1", "v2"):
        assert deploy_version(crew, app, version)[0] == "succeeded"
    states = containers_on(server, app)
    assert len(states) == 2, states
    wait_for_body(server, "pruned.lab.test", b"v2")


def test_one_app_on_every_lab_host(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    app = make_app("everywhere", web_servers)
    outcome, release = deploy_version(crew, app, "v2")
    assert outcome == "succeeded", release.log  # type: ignore[attr-defined]
    for server in web_servers:
        wait_for_body(server, "everywhere.lab.test", b"v2")


def test_stop_shows_a_maintenance_page_and_start_brings_it_back(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    from deployments.operations import lifecycle

    server = web_servers[1]
    app = make_app("pausable", [server])
    assert deploy_version(crew, app, "v2")[0] == "succeeded"
    stop = job_for(crew, "app.stop", app)
    assert run_job(stop.pk, lifecycle.stop) == "succeeded", log_of(stop)
    status, body = fetch(server, "pausable.lab.test")
    assert status == 503 and b"maintenance" in body
    assert all("exited" in line for line in containers_on(server, app))
    start = job_for(crew, "app.start", app)
    assert run_job(start.pk, lifecycle.start) == "succeeded", log_of(start)
    wait_for_body(server, "pausable.lab.test", b"v2")


def test_redeploy_and_restart_replace_the_container_health_gated(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[2]
    app = make_app("again", [server])
    outcome, first = deploy_version(crew, app, "v1")
    assert outcome == "succeeded"
    before = Container.objects.get(release=first, running=True).name
    for kind in ("redeploy", "restart"):
        outcome, release = deploy_version(crew, app, "v1", kind=kind)
        assert outcome == "succeeded", release.log  # type: ignore[attr-defined]
        wait_for_body(server, "again.lab.test", b"v1")
    now = Container.objects.get(release__app=app, running=True).name
    assert now != before and sum("running" in line for line in containers_on(server, app)) == 1


def test_two_apps_share_a_server_each_by_its_domain(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[0]
    first, second = make_app("alpha", [server]), make_app("beta", [server])
    assert deploy_version(crew, first, "v1")[0] == "succeeded"
    assert deploy_version(crew, second, "v2")[0] == "succeeded"
    wait_for_body(server, "alpha.lab.test", b"v1")
    wait_for_body(server, "beta.lab.test", b"v2")
    assert fetch(server, "nobody.lab.test") == (404, b"No app is served at this address.\n")


def _proxy_address(server: Server) -> str:
    target = target_for(server)
    template = '{{with index .NetworkSettings.Networks "panel"}}{{.IPAddress}}{{end}}'
    address = asyncio.run(
        ssh.run(target, ["docker", "inspect", "--format", template, "panel-proxy"])
    ).stdout.strip()
    assert address
    return f"{address}]"


def test_a_worker_role_boots_after_web_runs_without_the_proxy_and_redeploys_alone(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[1]
    app = make_app("withjobs", [server])
    Role.objects.create(
        app=app, name="job", command="/bin/sh -c 'echo worker up; exec sleep 600'"
    ).servers.set([server])
    outcome, release = deploy_version(crew, app, "v1")
    assert outcome == "succeeded", release.log  # type: ignore[attr-defined]
    log = release.log  # type: ignore[attr-defined]
    web_healthy = log.index("withjobs-web-v1")
    assert log.index("is healthy", web_healthy) < log.index("--label panel.role=job")
    rows = {c.role: c.name for c in Container.objects.filter(release=release)}
    assert set(rows) == {"web", "job"}
    target = target_for(server)
    logs = asyncio.run(ssh.run(target, ["docker", "logs", rows["job"]])).stdout
    assert "worker up" in logs
    assert (
        "withjobs-job"
        not in asyncio.run(
            ssh.run(target, ["sh", "-c", "docker exec panel-proxy cat /config/caddy/autosave.json"])
        ).stdout
    )
    wait_for_body(server, "withjobs.lab.test", b"v1")

    app.refresh_from_db()
    job = services.start_role_redeploy(crew.actor(crew.deployer), app, "job")
    assert run_job(job.pk, deploy) == "succeeded", log_of(job)
    running = dict(
        Container.objects.filter(release__app=app, running=True).values_list("role", "name")
    )
    assert running["web"] == rows["web"] and running["job"] != rows["job"]
    release.refresh_from_db()
    assert release.status == ReleaseStatus.LIVE
    wait_for_body(server, "withjobs.lab.test", b"v1")


def test_removing_an_app_takes_it_off_its_servers(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    from deployments.operations.remove import remove

    server = web_servers[2]
    app = make_app("goner", [server])
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    job = job_for(crew, "app.remove", app)
    assert run_job(job.pk, remove) == "succeeded", log_of(job)
    assert fetch(server, "goner.lab.test")[0] == 404
    assert containers_on(server, app) == []
    assert not App.objects.filter(pk=app.pk).exists()
