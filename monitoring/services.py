"""What people do with monitoring: add or remove a notification channel (its URL checked by
apprise and stored encrypted), send a test through it, acknowledge or silence an alert. Every
write is audited; the channel's URL is never in the audit, a page or an error."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import apprise
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from monitoring import alerting
from monitoring.models import (
    Alert,
    AlertKind,
    AlertRule,
    Channel,
    HostHealth,
    Notification,
    UptimeCheck,
)
from monitoring.operations.notify import deliver
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Team
from panel.sensitive import Sensitive
from servers.models import Server

SILENCES = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}


def shown_url(url: str) -> str:
    """What a page may show of a channel's URL: its scheme and host, nothing after."""
    parts = urlsplit(url)
    host = (parts.hostname or "").strip()
    return f"{parts.scheme}://{host}…" if host else f"{parts.scheme}://…"


def create_channel(
    actor: Actor, team: Team, *, name: str, url: str, kinds: list[str], deploys: bool = False
) -> Channel:
    if not apprise.Apprise().add(url):
        raise ValidationError("apprise does not know this URL (see its list of services).")
    unknown = set(kinds) - set(AlertKind.values)
    if unknown:
        raise ValidationError(f"Unknown kinds of alert: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        channel = Channel(team=team, name=name, shown=shown_url(url), kinds=kinds, deploys=deploys)
        channel.url = Sensitive(url)
        channel.save()
        audit.record(actor, AuditAction.CHANNEL_CREATE, team=team, target=channel,
                     details={"name": name, "where": channel.shown, "kinds": kinds,
                              "deploys": deploys})  # fmt: skip
    return channel


def remove_channel(actor: Actor, channel: Channel) -> None:
    with transaction.atomic():
        audit.record(actor, AuditAction.CHANNEL_REMOVE, team=channel.team, target=channel,
                     details={"name": channel.name, "where": channel.shown})  # fmt: skip
        channel.delete()


def send_test(actor: Actor, channel: Channel) -> Notification:
    """A test message through the outbox, sent now; its outcome is on the page."""
    with transaction.atomic():
        notification = Notification.objects.create(
            channel=channel, event="test", title="Test from the panel",
            body=f"{actor.label} sent this to check the channel {channel.name}.",
            next_attempt_at=timezone.now(),
        )  # fmt: skip
        audit.record(actor, AuditAction.CHANNEL_TEST, team=channel.team, target=channel,
                     details={"name": channel.name})  # fmt: skip
    deliver([notification])
    return notification


def acknowledge(actor: Actor, alert: Alert) -> None:
    alerting.acknowledge(actor, alert, timezone.now())


def silence(actor: Actor, alert: Alert, span: str) -> None:
    if span not in SILENCES:
        raise ValidationError("Silence it for 1h, 1d or 7d.")
    alerting.silence(actor, alert, timezone.now() + SILENCES[span])


def add_check(actor: Actor, team: Team, url: str) -> UptimeCheck:
    check = UptimeCheck(team=team, url=url)
    check.full_clean()
    with transaction.atomic():
        check.save()
        audit.record(actor, AuditAction.UPTIME_CHECK_CREATE, team=team, target=check,
                     details={"url": url})  # fmt: skip
    return check


def remove_check(actor: Actor, check: UptimeCheck) -> None:
    if check.app_id:
        raise ValidationError("This check follows an app's domain: change the app's domains.")
    with transaction.atomic():
        audit.record(actor, AuditAction.UPTIME_CHECK_REMOVE, team=check.team, target=check,
                     details={"url": check.url})  # fmt: skip
        check.delete()


def set_interval(actor: Actor, server: Server, seconds: int) -> None:
    existing = HostHealth.objects.filter(server=server).first()
    before = audit.values_of(existing, ["interval_seconds"])
    with transaction.atomic():
        HostHealth.objects.update_or_create(server=server, defaults={"interval_seconds": seconds})
        audit.record(actor, AuditAction.COLLECTION_INTERVAL, team=server.team, target=server,
                     details={"seconds": seconds,
                              **audit.diff(before, {"interval_seconds": seconds})})  # fmt: skip


def set_rule(
    actor: Actor, team: Team, *, kind: str, server: Server | None, threshold: float,
    minutes: int, enabled: bool,
) -> AlertRule:  # fmt: skip
    """The team's rule for a kind (or a server's own), replacing the one before."""
    existing = AlertRule.objects.filter(team=team, kind=kind, server=server).first()
    before = audit.values_of(existing, ["threshold", "minutes", "enabled"])
    with transaction.atomic():
        rule, _ = AlertRule.objects.update_or_create(
            team=team, kind=kind, server=server,
            defaults={"threshold": threshold, "minutes": minutes, "enabled": enabled},
        )  # fmt: skip
        audit.record(actor, AuditAction.ALERT_RULE_SET, team=team, target=rule, details={
            "kind": kind, "server": server.name if server else "every server",
            "threshold": threshold, "minutes": minutes, "enabled": enabled,
            **audit.diff(before, {"threshold": threshold, "minutes": minutes, "enabled": enabled}),
        })  # fmt: skip
    return rule


def remove_rule(actor: Actor, rule: AlertRule) -> None:
    """Back to the defaults (or, for a server's own rule, to the team's)."""
    with transaction.atomic():
        audit.record(actor, AuditAction.ALERT_RULE_SET, team=rule.team, target=rule, details={
            "kind": rule.kind, "server": rule.server.name if rule.server else "every server",
            "removed": True,
        })  # fmt: skip
        rule.delete()
