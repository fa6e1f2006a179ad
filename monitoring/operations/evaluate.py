"""After a round: each collected server's conditions checked against its rules and its alerts
opened or resolved; an unreachable server gets its own alert and keeps the others as they were
(nothing is known of it, so nothing resolves); then the teams' backups."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Max, Min

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
from monitoring.models import Alert, AlertKind, HostHealth, HostStatus, Sample
from servers.models import Server


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
        firing = of_server(server.name, rules[server.pk], own, health.latest, now)
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
