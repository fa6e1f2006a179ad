"""Starting OS upgrades and reboots of a server (admins; audited with the job's start).
Refused while an app deploys there, while another upgrade or reboot of the server runs, and
without a check for updates that says the login may change packages."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from deployments.models import UpgradeWindow
from deployments.services import DeployRefused, refuse_while_deploying
from deployments.tasks import reboot_server, upgrade_server
from panel import audit
from panel.audit import Actor
from panel.jobs import services as jobs
from panel.models import AuditAction, Job, JobKind
from panel.models.jobs import ACTIVE_STATUSES
from panel.schedules import claim_due, give_back
from servers.models import Server, ServerUpdates
from servers.os_plans import SCOPES, chosen
from servers.updates import Updates, from_json

REBOOT_CHOICES = {
    "no": "Do not reboot",
    "if-required": "Reboot if the upgrade requires it",
    "always": "Reboot afterwards",
}
OS_JOBS = (JobKind.SERVER_UPGRADE, JobKind.SERVER_REBOOT)


def start_upgrade(actor: Actor, server: Server, *, scope: str, reboot: str, checked_at: str) -> Job:
    """Upgrade the packages of the check the person saw (`checked_at` names it)."""
    found, stored = _ready(server, "upgrade")
    if stored.checked_at.isoformat() != checked_at:
        raise DeployRefused("A newer check for updates ran since you looked; review it again.")
    if scope not in SCOPES or reboot not in REBOOT_CHOICES:
        raise DeployRefused("Choose which updates and whether to reboot.")
    packages = chosen(found, scope)
    if not packages:
        raise DeployRefused("There is nothing of that kind to upgrade.")
    return jobs.enqueue(
        kind=JobKind.SERVER_UPGRADE, team=server.team, actor=actor, task=upgrade_server,
        target=server,
        params={"scope": scope, "reboot": reboot, "checked_at": checked_at,
                "packages": [p.spec for p in packages]},
    )  # fmt: skip


def start_reboot(actor: Actor, server: Server, *, only_if_required: bool) -> Job:
    _ready(server, "reboot")
    return jobs.enqueue(
        kind=JobKind.SERVER_REBOOT, team=server.team, actor=actor, task=reboot_server,
        target=server, params={"only_if_required": only_if_required},
    )  # fmt: skip


def set_window(actor: Actor, server: Server, *, schedule: str, scope: str, reboot: str) -> None:
    """Upgrade the server on a schedule ("" stops it); audited."""
    fields = {"schedule": schedule, "scope": scope, "reboot": reboot}
    before = audit.values_of(UpgradeWindow.objects.filter(server=server).first(), fields)
    with transaction.atomic():
        if schedule:
            UpgradeWindow.objects.update_or_create(server=server, defaults={
                "team": server.team, "schedule": schedule, "scope": scope, "reboot": reboot,
            })  # fmt: skip
        else:
            UpgradeWindow.objects.filter(server=server).delete()
        details = {"schedule": schedule or "none", "scope": scope, "reboot": reboot}
        details |= audit.diff(before, fields)
        audit.record(actor, AuditAction.UPGRADE_WINDOW_SET, team=server.team, target=server,
                     details=details)  # fmt: skip


def start_due_upgrades(now: datetime) -> list[Job]:
    """An upgrade of each server whose window opens (once per tick); a busy server waits
    for the next one. The job checks first, so it upgrades what is there at that moment."""
    started = []
    windows = UpgradeWindow.objects.select_related("server__team")
    for due in claim_due(windows, now):
        try:
            _not_busy(due.server, "upgrade")
        except DeployRefused:
            give_back(due)
            continue
        started.append(jobs.enqueue(
            kind=JobKind.SERVER_UPGRADE, team=due.team, actor=Actor.system("upgrade window"),
            task=upgrade_server, target=due.server,
            params={"scope": due.scope, "reboot": due.reboot, "window": True},
        ))  # fmt: skip
    return started


@shared_task(name="deployments.start_due_upgrades")
def start_due_upgrades_now() -> int:
    return len(start_due_upgrades(timezone.now()))


def _ready(server: Server, what: str) -> tuple[Updates, ServerUpdates]:
    stored = ServerUpdates.objects.filter(server=server).first()
    if stored is None:
        raise DeployRefused(f"Check for updates first: it finds out whether the panel may {what}.")
    found = from_json(stored.report)
    if not found.can_upgrade:
        raise DeployRefused(f"{server.user} on {server.name} is neither root nor allowed sudo "
                            f"without a password, so the panel cannot {what} it.")  # fmt: skip
    _not_busy(server, what)
    return found, stored


def _not_busy(server: Server, what: str) -> None:
    running = Job.objects.filter(
        kind__in=OS_JOBS, target_id=str(server.pk), status__in=ACTIVE_STATUSES,
        target_type="servers.server",
    ).first()  # fmt: skip
    if running is not None:
        raise DeployRefused(f"{server.name} is busy with job #{running.pk}; wait for its end.")
    refuse_while_deploying(server, what)
