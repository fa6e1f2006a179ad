from __future__ import annotations

import pytest

from panel.sensitive import Sensitive
from servers import keys
from servers.models import HostKeyState, Server, SshKey
from tests.conftest import Crew
from tests.lab.debhost import DebianHost
from tests.lab.images import service_image
from tests.lab.lab import Lab, LabHost


def lab_key(crew: Crew, host: LabHost | DebianHost) -> SshKey:
    pair = keys.import_private(host.client_key.read_text())
    key, _ = SshKey.objects.get_or_create(
        team=crew.team,
        name="lab",
        defaults={
            "public_key": pair.public_key,
            "fingerprint": pair.fingerprint,
            "private_key": Sensitive(pair.private_key.reveal()),
        },
    )
    return key


def lab_server(
    crew: Crew, host: LabHost | DebianHost, name: str | None = None, user: str = ""
) -> Server:
    """A server record for a lab host, its host key confirmed as a user would."""
    public = keys.public_key_line(host.host_public_key)
    return Server.objects.create(
        team=crew.team,
        name=name or host.name,
        host=host.address,
        port=host.port,
        user=user or host.user,
        ssh_key=lab_key(crew, host),
        proxy_image=service_image("caddy"),
        host_key_state=HostKeyState.TRUSTED,
        host_key=public,
        host_key_fingerprint=keys.fingerprint(public),
    )


@pytest.fixture
def lab_servers(lab: Lab, crew: Crew) -> list[Server]:
    return [lab_server(crew, host) for host in lab.hosts]


@pytest.fixture
def key(crew: Crew) -> SshKey:
    """A fresh key of the crew's team."""
    pair = keys.generate()
    return SshKey.objects.create(
        team=crew.team,
        name="main",
        public_key=pair.public_key,
        fingerprint=pair.fingerprint,
        private_key=pair.private_key,
    )
