"""OS upgrades and reboots on the Debian lab host (a container with its own apt, whose
repository offers the demo package 1.0 → 1.1 as a security update): the check lists exactly
that package, the upgrade installs 1.1 (waiting for another apt first), reports it and sees
the reboot its postinst requires; the reboot drops SSH, waits and reports the new boot."""

from __future__ import annotations

import asyncio

import pytest
from django.utils import timezone

from deployments import upkeep_services
from deployments.operations.os_upkeep import reboot, upgrade
from deployments.services import DeployRefused
from monitoring.models import Alert
from panel.jobs.runner import run_job
from panel.models import Job, JobKind
from servers import services as server_services
from servers import ssh
from servers.models import Server, ServerUpdates
from servers.operations.updates import check_updates
from servers.targets import target_for
from servers.updates import from_json
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab import debhost
from tests.lab.debhost import DebianHost
from tests.lab.lab import Lab
from tests.servers.conftest import lab_server

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]

BOOT_ID = "/proc/sys/kernel/random/boot_id"
# Holds dpkg's front-end lock for a few seconds, as another apt run would.
HOLD_APT_LOCK = (
    "open(F, q(>>), q(/var/lib/dpkg/lock-frontend)) or die; "
    "my $l = pack(q(ssx4qqix4), F_WRLCK, 0, 0, 0, 0); fcntl(F, F_SETLKW, $l) or die; sleep 5"
)


@pytest.fixture
def debian(lab: Lab) -> DebianHost:
    """A fresh Debian host: the demo package at 1.0, nothing pending."""
    debhost.start()
    assert lab.debian is not None
    return lab.debian


def _on(server: Server, *argv: str) -> str:
    return asyncio.run(ssh.run(target_for(server), list(argv))).stdout.strip()


def _check(crew: Crew, server: Server) -> ServerUpdates:
    job = server_services.start_updates_check(crew.actor(crew.deployer), server)
    assert run_job(job.pk, check_updates) == "succeeded", log_of(job)
    return ServerUpdates.objects.get(server=server)


def test_check_upgrade_and_reboot(crew: Crew, debian: DebianHost) -> None:
    server = lab_server(crew, debian)
    stored = _check(crew, server)
    found = from_json(stored.report)
    assert [(p.name, p.current, p.candidate, p.security) for p in found.packages] == [
        ("panel-demo", "1.0", "1.1", True)
    ]
    assert (found.privilege, found.refreshed, found.reboot_required) == ("sudo", "yes", False)
    assert (stored.pending, stored.security) == (1, 1)

    # Another apt holds the lock for a while: the upgrade waits for it, then runs.
    asyncio.run(ssh.run(target_for(server), ["sh", "-c",
        f"sudo -n perl -MFcntl -e '{HOLD_APT_LOCK}' >/dev/null 2>&1 &"]))  # fmt: skip
    actor = crew.actor(crew.admin)
    job = upkeep_services.start_upgrade(actor, server, scope="security", reboot="no",
                                        checked_at=stored.checked_at.isoformat())  # fmt: skip
    assert run_job(job.pk, upgrade) == "succeeded", log_of(job)
    log = log_of(job)
    assert "Could not get lock" in log  # apt's own words, live
    assert "Setting up panel-demo (1.1)" in log
    assert "panel-demo 1.0 → 1.1" in log
    assert "A reboot is required (for panel-demo)" in log
    assert _on(server, "cat", "/usr/share/panel-demo/VERSION") == "1.1"
    stored.refresh_from_db()
    assert (stored.pending, stored.reboot_required) == (0, True)

    before = _on(server, "cat", BOOT_ID)
    job = upkeep_services.start_reboot(actor, server, only_if_required=True)
    assert run_job(job.pk, reboot) == "succeeded", log_of(job)
    log = log_of(job)
    assert "back after" in log and "is back and everything" in log
    after = _on(server, "cat", BOOT_ID)
    assert after != before and f"boot id {after}" in log
    stored.refresh_from_db()
    assert not stored.reboot_required

    # Nothing left to need a reboot: "only if required" does nothing.
    job = upkeep_services.start_reboot(actor, server, only_if_required=True)
    assert run_job(job.pk, reboot) == "succeeded"
    assert "does not need a reboot" in log_of(job)
    assert _on(server, "cat", BOOT_ID) == after


def test_a_login_without_sudo_may_check_but_not_upgrade(crew: Crew, debian: DebianHost) -> None:
    server = lab_server(crew, debian, user=debian.plain_user)
    found = from_json(_check(crew, server).report)
    assert (found.privilege, found.refreshed) == ("none", "no")
    with pytest.raises(DeployRefused, match="neither root nor allowed sudo"):
        upkeep_services.start_upgrade(crew.actor(crew.admin), server, scope="all", reboot="no",
                                      checked_at="")  # fmt: skip


def test_a_window_checks_upgrades_and_defers_its_reboot_while_an_alert_is_open(
    crew: Crew, debian: DebianHost
) -> None:
    server = lab_server(crew, debian)
    Alert.objects.create(team=crew.team, kind="cpu", server=server, title="deb1: CPU at 97 %",
                         opened_at=timezone.now())  # fmt: skip
    params = {"scope": "security", "reboot": "if-required", "window": True}
    job = Job.objects.create(kind=JobKind.SERVER_UPGRADE, team=crew.team, actor_label="window",
                             target_type="servers.server", target_id=str(server.pk),
                             params=params)  # fmt: skip
    before = _on(server, "cat", BOOT_ID)
    assert run_job(job.pk, upgrade) == "succeeded", log_of(job)
    log = log_of(job)
    assert "panel-demo 1.0 → 1.1" in log
    assert "The reboot waits for the next window: 1 alert(s) open" in log
    assert _on(server, "cat", BOOT_ID) == before
    assert ServerUpdates.objects.get(server=server).reboot_required
