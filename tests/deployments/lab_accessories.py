"""Accessories on lab servers, made and removed for tests and benchmarks."""

from __future__ import annotations

import asyncio
from typing import Any

from deployments import accessory_services as services
from deployments.commands import accessories
from deployments.models import Accessory
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.lab.images import service_image


def added(crew: Crew, server: Server, name: str, kind: str, **fields: Any) -> Accessory:
    """An accessory of the lab's image of its kind, with nothing of an earlier run left."""
    fields.setdefault("image", service_image(kind))
    accessory = services.create_accessory(
        crew.actor(crew.admin), crew.team, name=name, server=server, kind=kind, **fields
    )
    gone(accessory)
    return accessory


def gone(accessory: Accessory) -> None:
    target = target_for(accessory.server)
    asyncio.run(ssh.run(target, accessories.remove(accessory.name), check=False))
    asyncio.run(
        ssh.run(
            target,
            ["docker", "volume", "rm", "-f", accessories.volume(accessory.name)],
            check=False,
        )
    )
