"""Team SSH access on the Debian lab host: a member's key, granted a login, logs in; revoked,
or once the member leaves the team, it no longer does; a line written by hand outside the
panel's block stays exactly as it was and is reported as drift; the key the panel logs in
with is never touched nor reported."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest

from panel import teams
from panel.jobs.runner import run_job
from panel.models import Job, JobKind
from servers import access_services, ssh
from servers.models import ManagedLogin, Server
from servers.operations.access import sync_access
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab import debhost
from tests.lab.debhost import DebianHost
from tests.lab.lab import Lab
from tests.servers.conftest import lab_server

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
KEYS_OF_PLAIN = "/home/plain/.ssh/authorized_keys"


@pytest.fixture
def debian(lab: Lab) -> DebianHost:
    debhost.start()
    assert lab.debian is not None
    return lab.debian


def _logs_in(host: DebianHost, login: str, key: asyncssh.SSHKey) -> bool:
    async def attempt() -> bool:
        known = asyncssh.import_known_hosts(f"{host.address} {host.host_public_key}\n")
        try:
            async with asyncssh.connect(host.address, username=login, client_keys=[key],
                                        known_hosts=known, config=None, agent_path=None,
                                        connect_timeout=10) as connection:  # fmt: skip
                return (await connection.run("true", check=False)).exit_status == 0
        except asyncssh.PermissionDenied:
            return False

    return asyncio.run(attempt())


def _synced(server: Server) -> str:
    job = Job.objects.filter(kind=JobKind.SERVER_ACCESS, target_id=str(server.pk)).latest("pk")
    assert run_job(job.pk, sync_access) == "succeeded", log_of(job)
    return log_of(job)


def _file(server: Server) -> str:
    return asyncio.run(ssh.run(target_for(server), ["sudo", "-n", "cat", KEYS_OF_PLAIN])).stdout


def test_grants_revokes_and_leaving_the_team_reach_the_server(
    crew: Crew, debian: DebianHost
) -> None:
    server = lab_server(crew, debian)
    by_hand = asyncssh.generate_private_key("ssh-ed25519")
    hand_line = " ".join(by_hand.export_public_key().decode().split()[:2]) + " ops@old-laptop"
    append = f"echo '{hand_line}' >> {KEYS_OF_PLAIN}"
    asyncio.run(ssh.run(target_for(server), ["sudo", "-n", "sh", "-c", append]))
    member_key = asyncssh.generate_private_key("ssh-ed25519")
    dora, admin = crew.deployer, crew.actor(crew.admin)
    access_services.add_member_key(crew.actor(dora), dora, "laptop",
                                   member_key.export_public_key().decode())  # fmt: skip
    assert not _logs_in(debian, "plain", member_key)

    access_services.grant(admin, server, dora, "plain")
    log = _synced(server)
    assert "plain: added SHA256:" in log
    assert _logs_in(debian, "plain", member_key)
    text = _file(server)
    assert hand_line in text.splitlines()  # untouched, where it was
    assert text.index(hand_line) < text.index("# BEGIN keys managed by the panel")
    drift = ManagedLogin.objects.get(server=server, login="plain").outside
    assert [d["comment"] for d in drift] == ["ops@old-laptop"]  # the lab's own key is not drift
    assert "a key outside the panel's block" in log

    access = server.access.get(user=dora)
    access_services.revoke(admin, access)
    assert "plain: removed SHA256:" in _synced(server)
    assert not _logs_in(debian, "plain", member_key)
    assert hand_line in _file(server).splitlines()
    assert _logs_in(debian, "panel", asyncssh.import_private_key(debian.client_key.read_text()))

    access_services.grant(admin, server, dora, "plain")
    _synced(server)
    assert _logs_in(debian, "plain", member_key)
    teams.remove_member(crew.actor(crew.owner), crew.team, dora)
    _synced(server)
    assert not _logs_in(debian, "plain", member_key)
    assert not server.access.exists()
