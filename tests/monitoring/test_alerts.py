"""Alerts from conditions: opened once while a condition holds, resolved when it stops, a
notification per channel that takes the kind (none while silenced); rules override defaults;
channels keep their URL encrypted and out of pages; who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring import alerting
from monitoring import services as monitoring_services
from monitoring.conditions import DEFAULTS, Firing, Threshold, Window, of_server
from monitoring.models import Alert, AlertKind, AlertRule, Channel, Notification
from monitoring.operations.notify import scrubbed
from panel.models import AuditEvent
from servers.models import Server
from tests.conftest import Crew, new_server

SECRET_URL = "json://hooks.example.com/very-secret-token-42"


@pytest.fixture
def server(crew: Crew) -> Server:
    return new_server(crew)


def _channel(crew: Crew, name: str = "ops", kinds: list[str] | None = None) -> Channel:
    return monitoring_services.create_channel(
        crew.actor(crew.admin), crew.team, name=name, url=SECRET_URL, kinds=kinds or []
    )


def test_a_condition_opens_one_alert_and_resolves_it_with_a_notification_each(
    crew: Crew, server: Server
) -> None:
    _channel(crew)
    _channel(crew, "backups-only", [AlertKind.BACKUP_FAILED.value])
    disk = Firing(AlertKind.DISK, "/", "web-1: / is 95 % full", "Threshold 90 %.")
    now = timezone.now()
    for minute in range(3):  # three rounds see it: one alert, one message
        alerting.reconcile(
            crew.team.pk, server, [AlertKind.DISK], [disk], now + timedelta(minutes=minute)
        )
    alert = Alert.objects.get()
    assert alert.resolved_at is None and alert.title == "web-1: / is 95 % full"
    assert list(Notification.objects.values_list("channel__name", "event")) == [("ops", "opened")]
    alerting.reconcile(crew.team.pk, server, [AlertKind.DISK], [], now + timedelta(minutes=5))
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    resolved = Notification.objects.get(event="resolved")
    assert resolved.title.startswith("[Resolved]") and "5 min" in resolved.body


def test_a_silenced_alert_notifies_nobody_and_other_kinds_are_left_alone(
    crew: Crew, server: Server
) -> None:
    _channel(crew)
    now = timezone.now()
    cpu = Firing(AlertKind.CPU, "", "web-1: CPU above 90 %", "")
    alerting.reconcile(crew.team.pk, server, [AlertKind.CPU, AlertKind.DISK], [cpu], now)
    alert = Alert.objects.get()
    monitoring_services.silence(crew.actor(crew.deployer), alert, "1h")
    # A round that only looks at disks does not resolve the CPU alert.
    alerting.reconcile(crew.team.pk, server, [AlertKind.DISK], [], now)
    assert Alert.objects.get().resolved_at is None
    alerting.reconcile(crew.team.pk, server, [AlertKind.CPU], [], now + timedelta(minutes=1))
    assert Notification.objects.filter(event="resolved").count() == 0
    assert AuditEvent.objects.filter(action="alert.silenced").count() == 1


def test_rules_of_the_server_win_over_the_teams_and_the_defaults(
    crew: Crew, server: Server
) -> None:
    AlertRule.objects.create(team=crew.team, kind=AlertKind.DISK, threshold=80)
    AlertRule.objects.create(team=crew.team, kind=AlertKind.DISK, server=server, threshold=70)
    AlertRule.objects.create(team=crew.team, kind=AlertKind.CPU, threshold=90, enabled=False)
    other = new_server(crew, "web-2", "10.0.0.6")
    assert alerting.rules_for(crew.team.pk, server.pk)[AlertKind.DISK].threshold == 70
    assert alerting.rules_for(crew.team.pk, other.pk)[AlertKind.DISK].threshold == 80
    assert not alerting.rules_for(crew.team.pk, other.pk)[AlertKind.CPU].enabled
    assert (
        alerting.rules_for(crew.team.pk, other.pk)[AlertKind.MEMORY] == DEFAULTS[AlertKind.MEMORY]
    )


def test_levels_must_hold_for_their_minutes_and_containers_that_loop_are_named() -> None:
    now = timezone.now()
    rules = dict(DEFAULTS)
    rules[AlertKind.CPU] = Threshold(90, 10)
    short = {10: Window(cpu=95, memory=10, iowait=0, since=now - timedelta(minutes=3))}
    assert of_server("web-1", rules, short, {}, now) == []
    held = {10: Window(cpu=95, memory=10, iowait=0, since=now - timedelta(minutes=10))}
    [cpu] = of_server("web-1", rules, held, {}, now)
    assert cpu.kind == AlertKind.CPU and "95 %" in cpu.detail
    started = (now - timedelta(seconds=20)).isoformat().replace("+00:00", "Z")
    latest: dict[str, Any] = {
        "mounts": [{"path": "/srv", "pct": 91.5, "inodes_pct": 3.0}],
        "containers": [
            {"name": "shop-web-v1", "state": "running", "restarts": 5, "health": "unhealthy",
             "started_at": started},
            {"name": "steady", "state": "running", "restarts": 9, "health": "",
             "started_at": "2026-01-01T00:00:00Z"},
        ],
    }  # fmt: skip
    found = {(f.kind, f.subject) for f in of_server("web-1", rules, {}, latest, now)}
    assert found == {(AlertKind.DISK, "/srv"), (AlertKind.CRASH_LOOP, "shop-web-v1"),
                     (AlertKind.UNHEALTHY, "shop-web-v1")}  # fmt: skip


def test_a_disk_filling_a_recent_reboot_and_containers_down_alert() -> None:
    rules, now = dict(DEFAULTS), timezone.now()
    latest: dict[str, Any] = {"mounts": [
        {"path": "/", "pct": 60.0, "hours_left": 5.2},
        {"path": "/srv", "pct": 70.0, "hours_left": 30.0},
        {"path": "/tmp", "pct": 10.0, "hours_left": None},
    ]}  # fmt: skip
    down = of_server("web-1", rules, {}, {"containers": [
        {"name": "shop-web-v2", "state": "exited"}, {"name": "db", "state": "restarting"},
        {"name": "cache", "state": "running"}]}, now,
        expected=frozenset({"shop-web-v2", "db", "cache", "gone"}))  # fmt: skip
    assert [(f.subject, f.detail) for f in down] == [
        ("gone", "Its state: gone (removed)."),
        ("shop-web-v2", "Its state: exited."),
    ]
    down = of_server("web-1", rules, {}, {"containers": [
        {"name": "shop-web-v2", "state": "exited"}, {"name": "db", "state": "restarting"},
        {"name": "cache", "state": "running"}]}, now,
        expected=frozenset({"shop-web-v2", "db", "cache", "gone"}))  # fmt: skip
    assert [(f.subject, f.detail) for f in down] == [
        ("gone", "Its state: gone (removed)."),
        ("shop-web-v2", "Its state: exited."),
    ]
    booted = now - timedelta(minutes=3)
    fill, reboot = of_server("web-1", rules, {}, latest, now, rebooted_at=booted)
    assert (fill.kind, fill.subject) == (AlertKind.DISK_FILL, "/")
    assert fill.title == "web-1: / fills up in about 5 hours at the current rate"
    assert (reboot.kind, reboot.title) == (AlertKind.REBOOTED, "web-1 rebooted")
    later = now + timedelta(minutes=20)  # past the rule's 15 minutes: resolved
    assert [f.kind for f in of_server("web-1", rules, {}, latest, later, booted)] == [
        AlertKind.DISK_FILL
    ]


def test_channels_keep_their_url_secret_and_only_admins_manage_them(
    crew: Crew, client: Client
) -> None:
    url = reverse("channel_list")
    client.force_login(crew.deployer)
    assert client.post(url, {"name": "ops", "url": SECRET_URL}).status_code == 403
    client.force_login(crew.admin)
    page = client.post(url, {"name": "ops", "url": "not a url at all"}).content.decode()
    assert "apprise does not know this URL" in page and not Channel.objects.exists()
    client.post(url, {"name": "ops", "url": SECRET_URL, "kinds": ["disk", "cpu"]})
    channel = Channel.objects.get()
    assert channel.shown == "json://hooks.example.com…" and channel.kinds == ["disk", "cpu"]
    assert "very-secret-token-42" not in str(Channel.objects.values_list("url", flat=True).get())
    page = client.get(url).content.decode()
    assert "very-secret-token-42" not in page and "hooks.example.com" in page
    event = AuditEvent.objects.get(action="channel.create")
    assert "very-secret-token-42" not in str(event.details)
    client.force_login(crew.viewer)
    assert "very-secret-token-42" not in client.get(url).content.decode()
    assert client.post(reverse("channel_remove", args=[channel.pk])).status_code == 403
    assert client.get(reverse("alert_list")).status_code == 200


def test_deployers_acknowledge_and_viewers_only_see(
    crew: Crew, server: Server, client: Client
) -> None:
    alert = Alert.objects.create(
        team=crew.team, kind="disk", server=server, subject="/", title="web-1: / is 95 % full",
        opened_at=timezone.now(),
    )  # fmt: skip
    client.force_login(crew.viewer)
    page = client.get(reverse("alert_list")).content.decode()
    assert "web-1: / is 95 % full" in page and "acknowledge-" not in page
    assert client.post(reverse("alert_acknowledge", args=[alert.pk])).status_code == 403
    client.force_login(crew.deployer)
    client.post(reverse("alert_acknowledge", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.acknowledged_by == crew.deployer
    assert AuditEvent.objects.filter(action="alert.acknowledged").count() == 1
    client.force_login(crew.outsider)
    assert client.post(reverse("alert_acknowledge", args=[alert.pk])).status_code == 404


def test_what_a_failed_delivery_says_hides_the_channels_secrets() -> None:
    said = "Failed to send to json://hooks.example.com/very-secret-token-42: very-secret-token-42"
    assert "very-secret-token-42" not in scrubbed(said, SECRET_URL)
