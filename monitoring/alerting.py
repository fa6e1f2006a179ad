"""Where alerts change: a condition that holds opens its alert once (however many rounds see
it), a condition that stops holding resolves it, and each change puts a notification in the
outbox for every channel that takes its kind. People acknowledge and silence alerts; both
are audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from monitoring.conditions import DEFAULTS, Firing, Threshold
from monitoring.models import Alert, AlertKind, AlertRule, Channel, Notification
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Team
from servers.models import Server


def rules_for(team_id: int, server_id: int | None) -> dict[AlertKind, Threshold]:
    """The defaults, then the team's rules, then the server's own."""
    return rules_of_servers(team_id, [server_id])[server_id]


def rules_of_servers(
    team_id: int, server_ids: list[int | None]
) -> dict[int | None, dict[AlertKind, Threshold]]:
    """`rules_for` of many servers of a team, in one query."""
    own = list(AlertRule.objects.filter(Q(server=None) | Q(server_id__in=server_ids),
                                        team_id=team_id))  # fmt: skip
    found = {}
    for server_id in server_ids:
        rules = dict(DEFAULTS)
        for rule in sorted(own, key=lambda rule: rule.server_id is not None):
            if rule.server_id in (None, server_id):
                rules[AlertKind(rule.kind)] = Threshold(rule.threshold, rule.minutes, rule.enabled)
        found[server_id] = rules
    return found


def reconcile(
    team_id: int, server: Server | None, kinds: Iterable[AlertKind], firing: list[Firing],
    now: datetime, subject: str | None = None, open_alerts: list[Alert] | None = None,
) -> tuple[list[Alert], list[Alert]]:  # fmt: skip
    """Open what fires and is not open; resolve what is open (of these kinds, on this server,
    about this subject when one is named) and no longer fires. Returns the opened and the
    resolved. A caller that read the open alerts of many servers at once passes this one's."""
    kinds = list(kinds)
    if open_alerts is None:
        open_alerts = list(open_of(team_id, [server], kinds))
    open_now = {
        (alert.kind, alert.subject): alert
        for alert in open_alerts
        if alert.kind in kinds and subject in (None, alert.subject)
    }
    firing_keys = {(f.kind.value, f.subject) for f in firing}
    if set(open_now) == firing_keys:
        return [], []
    opened, resolved = [], []
    with transaction.atomic():
        for fired in firing:
            if (fired.kind.value, fired.subject) in open_now:
                continue
            alert = Alert.objects.create(
                team_id=team_id, kind=fired.kind, server=server, subject=fired.subject,
                title=fired.title, detail=fired.detail, opened_at=now,
            )  # fmt: skip
            _notify(alert, "opened", now)
            opened.append(alert)
        for key, alert in open_now.items():
            if key not in firing_keys:
                alert.resolved_at = now
                alert.save(update_fields=["resolved_at"])
                _notify(alert, "resolved", now)
                resolved.append(alert)
    return opened, resolved


def open_of(
    team_id: int, servers: list[Server | None], kinds: Iterable[AlertKind]
) -> QuerySet[Alert]:
    """The open alerts of these kinds on these servers (None: the team's own)."""
    on = Q(server__in=[s for s in servers if s is not None])
    if None in servers:
        on |= Q(server=None)
    return Alert.objects.filter(on, team_id=team_id, kind__in=list(kinds), resolved_at=None)


def _notify(alert: Alert, event: str, now: datetime) -> None:
    if alert.silenced_until and alert.silenced_until > now:
        return
    title = f"[{'Resolved' if event == 'resolved' else 'Alert'}] {alert.title}"
    body = alert.detail or alert.title
    if event == "resolved":
        body = f"Resolved after {_lasted(alert.opened_at, now)}. {body}"
    for channel in Channel.objects.filter(team_id=alert.team_id):
        if not channel.kinds or alert.kind in channel.kinds:
            Notification.objects.create(channel=channel, alert=alert, event=event, title=title,
                                        body=body, next_attempt_at=now)  # fmt: skip


def tell_deploy_followers(team_id: int, title: str, body: str, now: datetime) -> None:
    """A message (no alert) for every channel of the team that follows deploys."""
    for channel in Channel.objects.filter(team_id=team_id, deploys=True):
        Notification.objects.create(channel=channel, event="deployed", title=title, body=body,
                                    next_attempt_at=now)  # fmt: skip


def _lasted(start: datetime, end: datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def acknowledge(actor: Actor, alert: Alert, now: datetime) -> None:
    with transaction.atomic():
        alert.acknowledged_at = now
        alert.acknowledged_by_id = actor.user.pk if actor.user else None
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit.record(actor, AuditAction.ALERT_ACKNOWLEDGED, team=_team(alert), target=alert,
                     details={"title": alert.title})  # fmt: skip


def silence(actor: Actor, alert: Alert, until: datetime) -> None:
    with transaction.atomic():
        alert.silenced_until = until
        alert.save(update_fields=["silenced_until"])
        audit.record(actor, AuditAction.ALERT_SILENCED, team=_team(alert), target=alert,
                     details={"title": alert.title, "until": until.isoformat()})  # fmt: skip


def _team(alert: Alert) -> Team:
    return Team.objects.get(pk=alert.team_id)
