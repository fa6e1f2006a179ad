"""When the reaper interrupts a deploy, mark its release failed and remove what it started."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.dispatch import receiver

from deployments.commands import containers
from deployments.models import Container, Release, ReleaseStatus
from panel.jobs.services import job_interrupted
from panel.models import Job
from servers import services as server_services
from servers import ssh

logger = logging.getLogger(__name__)


@receiver(job_interrupted)
def clean_up_interrupted_deploy(sender: Any, job: Job, **kwargs: Any) -> None:
    if not job.kind.startswith("app."):
        return
    releases = Release.objects.filter(job=job, status=ReleaseStatus.PENDING)
    orphans = list(Container.objects.filter(release__in=releases).select_related("server__ssh_key"))
    releases.update(status=ReleaseStatus.FAILED)
    for row in orphans:
        try:
            target = server_services.target_for(row.server)
            asyncio.run(ssh.run(target, containers.remove(row.name), check=False))
            row.delete()
        except ssh.SshError:  # the next deploy's prune removes it
            logger.warning("could not remove %s on %s", row.name, row.server.name, exc_info=True)
