"""One plan, one run, on the lab: the deploy runs exactly the commands its preview showed; a
switch cut off on one server is undone on all; a changed host key stops a deploy before any
command; a rollback runs the release's own image, even after its tag moved."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from deployments import services
from deployments.models import App, Release, ReleaseStatus
from deployments.operations.deploy import deploy
from deployments.operations.preview import preview
from panel.jobs.runner import run_job
from panel.log_kinds import LogKind
from panel.models import AuditEvent, Job
from servers import ssh
from servers.execute import RouteBefore, StepRunner
from servers.models import HostKeyState, Server
from servers.plans import PointRoute
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp, log_of, wait_for_body
from tests.deployments.test_deploy_lab import deploy_version
from tests.lab import hosts as lab_hosts
from tests.lab import images
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def _run(job: Job) -> str | None:
    return run_job(job.pk, deploy)


def test_a_deploy_runs_exactly_the_commands_its_preview_showed(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    app = make_app("exact", web_servers[:2])
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    shown = preview(App.objects.get(pk=app.pk), "v2", "a1b2c3")
    job = services.start_deploy(crew.actor(crew.deployer), app, version="v2", nonce="a1b2c3")
    assert _run(job) == "succeeded", log_of(job)
    lines = list(job.log_lines.order_by("seq").values_list("kind", "text"))
    prune_at = next(i for i, (_, text) in enumerate(lines) if text.startswith("== Prune"))
    ran = [text for kind, text in lines[:prune_at] if kind == LogKind.COMMAND]
    assert ran and sorted(ran) == sorted(shown.plan.commands())
    assert "exact-web-v2-a1b2c3" in " ".join(ran)


def test_a_switch_cut_off_on_one_server_is_undone_on_every_server(
    crew: Crew,
    lab: Lab,
    web_servers: list[Server],
    make_app: MakeApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app("halfway", web_servers)
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    cut = web_servers[2]
    spec = next(host.spec for host in lab.hosts if host.name == cut.name)
    apply_route = StepRunner.apply_route

    def cut_off(
        self: StepRunner, step: PointRoute, before: RouteBefore
    ) -> Coroutine[Any, Any, None]:
        async def run() -> None:
            if step.host.id == cut.pk:
                # The connection to this server is cut as its switch begins; the others go on.
                with lab_hosts.sshd_down(spec):
                    await apply_route(self, step, before)
            else:
                await apply_route(self, step, before)

        return run()

    monkeypatch.setattr(StepRunner, "apply_route", cut_off)
    outcome, release = deploy_version(crew, app, "v2")
    monkeypatch.undo()
    assert outcome == "failed" and release.status == ReleaseStatus.FAILED
    assert release.job_id is not None
    job = Job.objects.get(pk=release.job_id)
    assert f"The switch failed on {cut.name}" in job.error
    assert "point at the previous release again" in job.error
    asyncio.run(ssh.close_all())
    for server in web_servers:
        wait_for_body(server, "halfway.lab.test", b"v1")
    assert AuditEvent.objects.filter(action="release.switch_revert", target_id=str(app.pk)).exists()
    assert deploy_version(crew, app, "v2")[0] == "succeeded"
    for server in web_servers:
        wait_for_body(server, "halfway.lab.test", b"v2")


def test_a_changed_host_key_stops_a_deploy_before_any_command_and_marks_the_server(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[1]
    app = make_app("swapped", [server])
    spec = next(host.spec for host in lab.hosts if host.name == server.name)
    asyncio.run(ssh.close_all())
    with lab_hosts.swapped_host_key(spec):
        outcome, release = deploy_version(crew, app, "v1")
    asyncio.run(ssh.close_all())
    assert release.job_id is not None
    job = Job.objects.get(pk=release.job_id)
    assert outcome == "failed" and "host key changed" in job.error
    assert not job.log_lines.filter(kind=LogKind.COMMAND).exists()
    server.refresh_from_db()
    assert server.host_key_state == HostKeyState.CHANGED
    assert AuditEvent.objects.filter(
        action="server.host_key_changed", target_id=str(server.pk)
    ).exists()
    Server.objects.filter(pk=server.pk).update(host_key_state=HostKeyState.TRUSTED, last_error="")


def test_a_rollback_runs_the_releases_own_image_after_its_tag_moved(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[0]
    app = make_app("pinned", [server], image=f"{lab.registry}/lab/pinned")
    pusher = lab.hosts[2].spec  # not the server deployed to: its images come from the panel
    images.push_to_registry(pusher, images.app_image("v1"), "lab/pinned:stable")
    outcome, first = deploy_version(crew, app, "stable")
    assert outcome == "succeeded" and "@sha256:" in first.image_digest
    images.push_to_registry(pusher, images.app_image("v2"), "lab/pinned:stable")
    outcome, second = deploy_version(crew, app, "stable")
    assert outcome == "succeeded" and second.image_digest != first.image_digest
    wait_for_body(server, "pinned.lab.test", b"v2")
    refused = Release.objects.create(app=app, version="x", image="x", status=ReleaseStatus.FAILED)
    with pytest.raises(services.DeployRefused):
        services.start_again(crew.actor(crew.deployer), app, refused, "rollback")
    job = services.start_again(crew.actor(crew.deployer), app, first, "rollback")
    assert _run(job) == "succeeded", log_of(job)
    wait_for_body(server, "pinned.lab.test", b"v1")
    rolled = Release.objects.get(pk=job.params["release"])
    assert rolled.run_image == first.image_digest and rolled.kind == "rollback"
    assert "docker pull" not in log_of(job)  # the image is on the server still: no pull
