"""Executor targets for the lab hosts (lab tests only)."""

from __future__ import annotations

from panel.sensitive import Sensitive
from servers.ssh import Target
from tests.lab.lab import LabHost


def target_for(host: LabHost, name: str | None = None) -> Target:
    return Target(
        name=name or host.name,
        host=host.address,
        port=host.port,
        user=host.user,
        client_key=Sensitive(host.client_key.read_text()),
        host_key=host.host_public_key,
    )
