"""After a round: each collected server's conditions checked against its rules and its alerts
opened or resolved; an unreachable server gets its own alert and keeps the others as they were
(nothing is known of it, so nothing resolves); then the teams' backups."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Max, Min, Q

from backups.models import Backup, Policy, Verification
from monitoring import alerting
from monitoring.conditions import (
    BACKUP_KINDS,
    LEVELS,
    SERVER_KINDS,
    Firing,
    Threshold,
    Window,
    of_server,
)
from monitoring.models import (
    Alert,
    AlertKind,
    EventKind,
    HostEvent,
    HostHealth,
    HostStatus,
    Sample,
)
from monitoring.overview import expected_containers
from panel.models import Job, JobKind, JobStatus
from servers.models import HostKeyState, Server


def evaluate_servers(healths: list[HostHealth], now: datetime) -> None:
    """The servers of a round, as it left their states."""
    servers = [health.server for health in healths]
    rules: dict[int | None, dict[AlertKind, Threshold]] = {}
    for team_id in {server.team_id for server in servers}:
        ids: list[int | None] = [s.pk for s in servers if s.team_id == team_id]
        rules |= alerting.rules_of_servers(team_id, ids)
    lengths = {rules[s.pk][kind].minutes for s in servers for kind, _, _ in LEVELS}
    windows = {minutes: _windows(servers, minutes, now) for minutes in lengths}
    kinds = [*SERVER_KINDS, AlertKind.UNREACHABLE]
    expected = expected_containers(servers)
    longest = max(rules[s.pk][AlertKind.REBOOTED].minutes for s in servers)
    reboots = dict(
        HostEvent.objects.filter(server__in=servers, kind=EventKind.REBOOTED,
                                 at__gte=now - timedelta(minutes=longest))
        .values("server_id").annotate(last=Max("at")).values_list("server_id", "last")
    )  # fmt: skip
    open_now: dict[int | None, list[Alert]] = defaultdict(list)
    for team_id in {server.team_id for server in servers}:
        mine: list[Server | None] = [s for s in servers if s.team_id == team_id]
        for alert in alerting.open_of(team_id, mine, kinds):
            open_now[alert.server_id].append(alert)
    for health in healths:
        server = health.server
        if health.status == HostStatus.UNKNOWN:
            continue
        if health.status == HostStatus.UNREACHABLE:
            error = health.last_error.splitlines()[-1:] if health.last_error else []
            firing = [Firing(AlertKind.UNREACHABLE, "", f"{server.name} is unreachable",
                             f"Two rounds in a row failed: {' '.join(error)}")]  # fmt: skip
            alerting.reconcile(server.team_id, server, [AlertKind.UNREACHABLE], firing, now,
                               open_alerts=open_now[server.pk])  # fmt: skip
            continue
        own = {
            minutes: found[server.pk] for minutes, found in windows.items() if server.pk in found
        }
        firing = of_server(server.name, rules[server.pk], own, health.latest, now,
                           reboots.get(server.pk), expected[server.pk])  # fmt: skip
        alerting.reconcile(server.team_id, server, kinds, firing, now,
                           open_alerts=open_now[server.pk])  # fmt: skip


def _windows(servers: list[Server], minutes: int, now: datetime) -> dict[int, Window]:
    rows = (
        Sample.objects.filter(
            server__in=servers, at__gte=now - timedelta(minutes=minutes, seconds=45)
        )
        .values("server_id")
        .annotate(
            cpu=Min("cpu_pct"), memory=Min("memory_pct"), iowait=Min("iowait_pct"), since=Min("at")
        )
    )
    return {
        row["server_id"]: Window(row["cpu"], row["memory"], row["iowait"], row["since"])
        for row in rows
    }


def evaluate_backups(now: datetime) -> None:
    """Per accessory with a policy: its latest backup failed, its last good one too old, its
    last verified restore too old."""
    by_team: dict[int, list[Firing]] = defaultdict(list)
    for policy in Policy.objects.select_related("accessory"):
        accessory, found = policy.accessory, by_team[policy.team_id]
        rules, name = alerting.rules_for(policy.team_id, None), accessory.name
        newest = Backup.objects.filter(accessory=accessory).order_by("-created_at").first()
        if rules[AlertKind.BACKUP_FAILED].enabled and newest and not newest.succeeded:
            title = f"The backup of {name} failed"
            found.append(Firing(AlertKind.BACKUP_FAILED, name, title, newest.error[:500]))
        good = Backup.objects.filter(accessory=accessory, succeeded=True)
        last_good = good.aggregate(last=Max("created_at"))["last"] or policy.created_at
        words = "No backup of {name} has succeeded for {hours} hours"
        _too_old(found, AlertKind.BACKUP_AGE, rules[AlertKind.BACKUP_AGE], name, last_good, now,
                 words)  # fmt: skip
        if policy.verify_schedule:
            passed = Verification.objects.filter(accessory=accessory, passed=True)
            proven = passed.aggregate(last=Max("created_at"))["last"] or policy.created_at
            words = "No restore of {name} has been verified for {hours} hours"
            _too_old(found, AlertKind.VERIFY_AGE, rules[AlertKind.VERIFY_AGE], name, proven, now,
                     words)  # fmt: skip
    for team_id, found in by_team.items():
        alerting.reconcile(team_id, None, BACKUP_KINDS, _unique(found), now)


def _too_old(
    found: list[Firing], kind: AlertKind, rule: Threshold, name: str, since: datetime,
    now: datetime, words: str,
) -> None:  # fmt: skip
    hours = (now - since).total_seconds() / 3600
    if rule.enabled and hours >= rule.threshold:
        title = words.format(name=name, hours=int(hours))
        found.append(Firing(kind, name, title, f"Threshold {rule.threshold:g} hours."))


def _unique(found: list[Firing]) -> list[Firing]:
    """One per kind and accessory, when two policies name the same accessory."""
    return list({(f.kind, f.subject): f for f in found}.values())


DEPLOYS = (JobKind.APP_DEPLOY, JobKind.APP_REDEPLOY, JobKind.APP_ROLLBACK)


def deploy_finished(job: Job, now: datetime) -> None:
    """A deploy (or rollback) that failed opens its app's alert; one that succeeded resolves
    it and tells the channels that follow deploys."""
    if job.kind not in DEPLOYS or job.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return
    app, rule = job.target_label, alerting.rules_for(job.team_id, None)[AlertKind.DEPLOY_FAILED]
    firing = []
    if job.status == JobStatus.FAILED and rule.enabled:
        title = f"The {job.get_kind_display().lower()} of {app} failed"
        firing.append(Firing(AlertKind.DEPLOY_FAILED, app, title, job.error[:500]))
    alerting.reconcile(job.team_id, None, [AlertKind.DEPLOY_FAILED], firing, now, subject=app)
    if job.status == JobStatus.SUCCEEDED:
        version = job.params.get("version", "")
        title = f"[Deployed] {app} {version}".strip()
        body = f"{job.get_kind_display()} of {app} {version} by {job.actor_label} succeeded."
        alerting.tell_deploy_followers(job.team_id, title, body, now)


def evaluate_host_keys(now: datetime) -> None:
    """A server whose host key no longer matches the trusted one has an alert until someone
    trusts the new key (or the old one answers again)."""
    changed = Server.objects.filter(host_key_state=HostKeyState.CHANGED)
    open_now = Alert.objects.filter(kind=AlertKind.HOST_KEY, resolved_at=None)
    servers = Server.objects.filter(Q(pk__in=changed) | Q(pk__in=open_now.values("server_id")))
    for server in servers:
        firing = []
        rule = alerting.rules_for(server.team_id, server.pk)[AlertKind.HOST_KEY]
        if server.host_key_state == HostKeyState.CHANGED and rule.enabled:
            detail = ("The server presents another host key than the one trusted: it may have "
                      "been reinstalled, or someone is in between. Nothing runs on it until an "
                      "admin checks and trusts the new key.")  # fmt: skip
            firing.append(Firing(AlertKind.HOST_KEY, "", f"{server.name}: host key changed",
                                 detail))  # fmt: skip
        alerting.reconcile(server.team_id, server, [AlertKind.HOST_KEY], firing, now)
