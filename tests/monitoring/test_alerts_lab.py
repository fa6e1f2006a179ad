"""Alerts on the lab, delivered for real: a small disk filled past its threshold opens an
alert that reaches the SMTP sink and the webhook receiver within the round, and removing the
file resolves it; a webhook receiver that is down gets the message once it is back; a container
restarting in a loop opens its own alert."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring import services as monitoring_services
from monitoring.models import Alert, AlertKind, Delivery, HostHealth, Notification
from monitoring.operations.collect import collect_round
from monitoring.operations.notify import deliver_due
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.lab import hosts as lab_hosts
from tests.lab import services as lab_services
from tests.lab.images import app_image
from tests.lab.lab import Lab
from tests.servers.conftest import lab_server

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
HOOK = f"json://127.0.0.1:{lab_services.WEBHOOK_PORT}/hooks/panel"
BIG_FILE = lab_hosts.SMALL_DISK / "big"


@pytest.fixture
def watched(crew: Crew, lab: Lab) -> Iterator[Server]:
    """The first lab host, monitored, with a mail and a webhook channel and an empty inbox."""
    server = lab_server(crew, lab.hosts[0])
    for name, url in (("mail", lab_services.MAIL_URL), ("hook", HOOK)):
        monitoring_services.create_channel(crew.actor(crew.admin), crew.team, name=name, url=url,
                                           kinds=[])  # fmt: skip
    lab_services.empty_inbox()
    _run(server, ["rm", "-f", str(BIG_FILE)])
    yield server
    _run(server, ["rm", "-f", str(BIG_FILE)])
    lab_services.start_receiver("http")


def _run(server: Server, argv: list[str]) -> None:
    asyncio.run(ssh.run(target_for(server), argv, check=False))


def _round() -> None:
    HostHealth.objects.update(claimed_at=None)
    result = collect_round()
    assert result.answered == result.servers == 1, result


def test_a_full_disk_alerts_by_mail_and_webhook_and_clears_when_emptied(watched: Server) -> None:
    _round()
    assert not Alert.objects.exists()
    _run(watched, ["fallocate", "-l", "48M", str(BIG_FILE)])
    filled = time.monotonic()
    _round()
    latency = time.monotonic() - filled
    alert = Alert.objects.get(kind=AlertKind.DISK, subject=str(lab_hosts.SMALL_DISK))
    assert alert.resolved_at is None and "small-disk is" in alert.title
    messages = lab_services.inbox()
    mail = next(m for m in messages if "content" in m)
    hook = json.loads(next(m for m in messages if "body" in m)["body"])
    assert mail["to"] == ["ops@lab.test"] and f"Subject: [Alert] {alert.title}" in mail["content"]
    assert hook["title"] == f"[Alert] {alert.title}" and "Threshold 90 %" in hook["message"]
    assert latency < 10, latency  # within the round that saw it
    lab_services.empty_inbox()
    _round()  # still full: no second message
    assert lab_services.inbox() == [] and Alert.objects.count() == 1

    _run(watched, ["rm", "-f", str(BIG_FILE)])
    _round()
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert {json.loads(m["body"])["title"] for m in lab_services.inbox() if "body" in m} == {
        f"[Resolved] {alert.title}"
    }


def test_a_webhook_receiver_that_was_down_gets_the_alert_once_it_is_back(watched: Server) -> None:
    lab_services.stop_receiver("http")
    _run(watched, ["fallocate", "-l", "48M", str(BIG_FILE)])
    _round()
    waiting = Notification.objects.get(channel__name="hook", event="opened")
    assert waiting.status == Delivery.PENDING and waiting.attempts == 1 and waiting.last_error
    assert "/hooks/panel" not in waiting.last_error  # the channel's URL stays out of it
    assert Notification.objects.get(channel__name="mail").status == Delivery.SENT
    lab_services.start_receiver("http")
    assert deliver_due() == 0  # not due yet: it waits before trying again
    deliver_due(timezone.now() + timedelta(minutes=1))
    waiting.refresh_from_db()
    assert waiting.status == Delivery.SENT and waiting.attempts == 2
    assert any("body" in message for message in lab_services.inbox())


def test_a_container_restarting_in_a_loop_opens_its_alert(watched: Server) -> None:
    name = "looping-canary"
    _run(watched, ["docker", "rm", "--force", name])
    _run(watched, ["docker", "run", "--detach", "--name", name, "--restart", "always",
                   "--entrypoint", "/bin/sh", app_image("v1"), "-c", "exit 3"])  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            _round()
            if Alert.objects.filter(kind=AlertKind.CRASH_LOOP, subject=name).exists():
                break
            assert time.monotonic() < deadline, "no crash-loop alert"
            time.sleep(1)
    finally:
        _run(watched, ["docker", "rm", "--force", name])
    _round()
    assert Alert.objects.get(kind=AlertKind.CRASH_LOOP).resolved_at is not None
    assert any(name in json.loads(m["body"])["title"] for m in lab_services.inbox() if "body" in m)
