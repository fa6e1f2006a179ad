"""What an accessory is doing now, read from its server: state, health, uptime, image, and
the disk use of its volumes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deployments.commands import accessories
from deployments.models import Accessory
from servers import ssh
from servers.targets import target_for


@dataclass(frozen=True)
class Details:
    state: str = "not created"
    health: str = ""
    started: datetime | None = None
    image_id: str = ""
    volumes: list[tuple[str, str]] = field(default_factory=list)  # name, size
    error: str = ""


async def details(accessory: Accessory) -> Details:
    target = target_for(accessory.server)
    try:
        found = await ssh.run(target, accessories.inspect(accessory.name), check=False, timeout=20)
        sizes = await ssh.run(target, accessories.volume_sizes(), check=False, timeout=60)
    except ssh.SshError as error:
        return Details(state="unknown", error=str(error))
    names = {mount.split(":", 1)[0] for mount in accessory.volumes}
    volumes = [
        (str(row.get("Name")), str(row.get("Size")))
        for row in _json(sizes.stdout, [])
        if row.get("Name") in names
    ]
    if not found.ok:
        return Details(volumes=volumes)
    state = _json(found.stdout, {})
    return Details(
        state=str(state.get("state", "")),
        health=str(state.get("health", "")),
        started=_time(str(state.get("started", ""))),
        image_id=str(state.get("image", ""))[7:19],
        volumes=volumes,
    )


def _json(text: str, empty: Any) -> Any:
    try:
        return json.loads(text.strip() or "null") or empty
    except ValueError:
        return empty


def _time(text: str) -> datetime | None:
    """Docker's time (nanoseconds, Z) to the second."""
    try:
        return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
    except ValueError:
        return None
