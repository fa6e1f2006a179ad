"""Hooks and app exec on the lab."""

from __future__ import annotations

import pytest

from deployments import services
from deployments.models import App, ReleaseStatus
from deployments.operations.app_exec import app_exec
from panel.jobs.runner import run_job
from servers.models import Server
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp, job_for, log_of, wait_for_body
from tests.deployments.test_deploy_lab import containers_on, deploy_version

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def test_a_failing_pre_deploy_hook_stops_the_deploy_before_anything_starts(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[0]
    app = make_app("hooked", [server])
    services.set_env(crew.actor(crew.admin), app, "STAGE", "migrations", secret=False)
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    before = containers_on(server, app)
    App.objects.filter(pk=app.pk).update(
        pre_deploy_command="/bin/sh -c 'echo running $STAGE; exit 3'"
    )
    app.refresh_from_db()
    outcome, release = deploy_version(crew, app, "v2")
    assert outcome == "failed" and release.status == ReleaseStatus.FAILED
    assert "running migrations" in release.log  # type: ignore[attr-defined]
    assert "pre-deploy command failed" in release.log  # type: ignore[attr-defined]
    assert containers_on(server, app) == before
    wait_for_body(server, "hooked.lab.test", b"v1")

    App.objects.filter(pk=app.pk).update(
        pre_deploy_command="/bin/sh -c 'echo migrated $STAGE'",
        post_deploy_command="/bin/sh -c 'echo after $(cat /variant)'",
    )
    app.refresh_from_db()
    outcome, release = deploy_version(crew, app, "v2")
    assert outcome == "succeeded", release.log  # type: ignore[attr-defined]
    log = release.log  # type: ignore[attr-defined]
    assert log.index("migrated migrations") < log.index("docker run --detach")
    assert "after v2" in log
    wait_for_body(server, "hooked.lab.test", b"v2")


def test_app_exec_runs_in_a_new_or_a_running_container(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[1]
    app = make_app("execme", [server])
    services.set_env(crew.actor(crew.admin), app, "GREETING", "hello from env", secret=False)
    services.set_env(crew.actor(crew.admin), app, "TOKEN", "exec-secret-1234", secret=True)
    assert deploy_version(crew, app, "v2")[0] == "succeeded"
    fresh = job_for(
        crew, "app.exec", app, command="/bin/sh -c 'echo $GREETING; echo $TOKEN'", mode="new"
    )
    assert run_job(fresh.pk, app_exec) == "succeeded", log_of(fresh)
    assert "hello from env" in log_of(fresh) and "exec-secret-1234" not in log_of(fresh)
    running = job_for(crew, "app.exec", app, command="cat /variant", mode="running")
    assert run_job(running.pk, app_exec) == "succeeded", log_of(running)
    assert "] v2" in log_of(running)
    assert all("execme-exec-" not in line for line in containers_on(server, app))
