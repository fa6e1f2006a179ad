"""When the reaper interrupts an app's job: its release failed; a proxy a cut-short switch
left pointing at a new container is pointed back at the live one; the containers and build
files the job left are removed."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from celery import current_app
from django.dispatch import receiver

from deployments import releases
from deployments.commands import containers, paths
from deployments.models import App, Container, DeliveryResult, WebhookDelivery
from deployments.spec import host_of, route_of
from panel.jobs.reaper import job_interrupted
from panel.jobs.runner import job_finished
from panel.models import Job
from servers import ssh
from servers.commands import host
from servers.execute import StepRunner
from servers.models import Server
from servers.plans import PointRoute
from servers.targets import target_for

logger = logging.getLogger(__name__)
START_WAITING_PUSHES = "deployments.start_waiting_pushes"


@receiver(job_finished, dispatch_uid="deployments.push_waited")
def start_a_waiting_push(sender: Any, job_id: int, **kwargs: Any) -> None:
    """A push that waited for this job of its app deploys now."""
    job = Job.objects.filter(pk=job_id, target_type=App._meta.label_lower).first()
    waiting = (
        job is not None
        and WebhookDelivery.objects.filter(
            webhook__app_id=job.target_id, result=DeliveryResult.QUEUED
        ).exists()
    )
    if waiting:
        current_app.send_task(START_WAITING_PUSHES)


@receiver(job_interrupted)
def clean_up_interrupted_deploy(sender: Any, job: Job, **kwargs: Any) -> None:
    if not job.kind.startswith("app."):
        return
    left = releases.interrupted(job)
    for app in {row.release.app for row in left} | _apps_building(job):
        if app.git_url:
            _remove_build_files(app)
    for row in left:
        try:
            target = target_for(row.server)
            if row.serving:
                _point_back(row, target)
            asyncio.run(ssh.run(target, containers.remove(row.name), check=False))
            releases.forget_containers([row.name])
        except ssh.SshError:  # the next deploy's prune removes it
            logger.warning("could not clean up %s on %s", row.name, row.server.name, exc_info=True)


def _point_back(row: Container, target: ssh.Target) -> None:
    """The switch reached this server before the job died: back to the live container, or
    to the maintenance page when none runs there."""
    app = row.release.app
    live = Container.objects.filter(
        release=app.current_release, server=row.server, role=row.role, running=True
    ).first()
    upstream = f"{live.name}:{app.container_port}" if live else ""
    step = PointRoute(host_of(row.server), route_of(app), upstream, title="point back")
    asyncio.run(StepRunner({row.server_id: target}, lambda text, kind: None).point(step))
    releases.serving(app, row.server_id, live.name if live else "")


def _apps_building(job: Job) -> set[App]:
    return (
        set(App.objects.filter(pk=job.target_id)) if job.target_type == "deployments.app" else set()
    )


def _remove_build_files(app: App) -> None:
    """A build cut short leaves its argument and secret files on the build server."""
    servers = {*Server.objects.filter(roles__app=app).select_related("ssh_key")}
    if app.build_server is not None:
        servers.add(app.build_server)
    for server in servers:
        try:
            argv = host.remove_directory(paths.build_dir(app.name))
            asyncio.run(ssh.run(target_for(server), argv, check=False))
        except ssh.SshError:  # the app's next build removes them
            logger.warning("could not remove build files of %s on %s", app.name, server.name)
