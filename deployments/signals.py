"""When the reaper interrupts a deploy, mark its release failed and remove what it started."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.dispatch import receiver

from deployments.commands import containers
from deployments.models import App, Container, Release, ReleaseStatus
from panel.jobs.services import job_interrupted
from panel.models import Job
from servers import services as server_services
from servers import ssh
from servers.models import Server

logger = logging.getLogger(__name__)


@receiver(job_interrupted)
def clean_up_interrupted_deploy(sender: Any, job: Job, **kwargs: Any) -> None:
    if not job.kind.startswith("app."):
        return
    releases = Release.objects.filter(job=job, status=ReleaseStatus.PENDING)
    for app in App.objects.filter(releases__in=releases).exclude(git_url="").distinct():
        _remove_build_files(app)
    orphans = list(Container.objects.filter(release__in=releases).select_related("server__ssh_key"))
    releases.update(status=ReleaseStatus.FAILED)
    for row in orphans:
        try:
            target = server_services.target_for(row.server)
            asyncio.run(ssh.run(target, containers.remove(row.name), check=False))
            row.delete()
        except ssh.SshError:  # the next deploy's prune removes it
            logger.warning("could not remove %s on %s", row.name, row.server.name, exc_info=True)


def _remove_build_files(app: App) -> None:
    """A build cut short leaves its argument and secret files on the build server."""
    servers = {*Server.objects.filter(roles__app=app).select_related("ssh_key")}
    if app.build_server is not None:
        servers.add(app.build_server)
    for server in servers:
        try:
            asyncio.run(_remove_build_dir(server_services.target_for(server), app.name))
        except ssh.SshError:  # the app's next build removes them
            logger.warning("could not remove build files of %s on %s", app.name, server.name)


async def _remove_build_dir(target: ssh.Target, app: str) -> None:
    home = await ssh.home_dir(target)
    await ssh.run(target, ["rm", "-rf", "--", containers.build_dir(home, app)], check=False)
