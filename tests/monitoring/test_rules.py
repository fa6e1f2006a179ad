"""Alert rules from the page: admins set the team's (or a server's own) and put them back to
the defaults, each audited; others see them; a percentage above 100 is refused; the round's
rules follow."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from monitoring import alerting
from monitoring.models import AlertKind, AlertRule, HostHealth
from panel.models import AuditAction, AuditEvent
from tests.conftest import Crew, new_server


def test_admins_set_rules_that_the_rounds_use(crew: Crew, client: Client) -> None:
    server = new_server(crew)
    url = reverse("rule_list")
    client.force_login(crew.viewer)
    page = client.get(url).content.decode()
    assert "Disk almost full" in page and 'id="rule-form"' not in page
    assert client.post(url, {"kind": "cpu", "threshold": "50"}).status_code == 403
    client.force_login(crew.admin)
    refused = client.post(url, {"kind": "disk", "threshold": "150", "enabled": "on"})
    assert "A percentage is 100 at most." in refused.content.decode()
    client.post(url, {"kind": "cpu", "threshold": "75", "minutes": "", "enabled": "on"})
    client.post(url, {"kind": "cpu", "server": server.pk, "threshold": "99", "minutes": "2"})
    team_rule = AlertRule.objects.get(server=None)
    assert (team_rule.threshold, team_rule.minutes, team_rule.enabled) == (75, 10, True)
    rules = alerting.rules_for(crew.team.pk, server.pk)[AlertKind.CPU]
    assert (rules.threshold, rules.minutes, rules.enabled) == (99, 2, False)
    assert alerting.rules_for(crew.team.pk, None)[AlertKind.CPU].threshold == 75
    page = client.get(url).content.decode()
    assert "set by the team" in page and "web-1" in page
    client.post(reverse("rule_remove", args=[team_rule.pk]))
    assert alerting.rules_for(crew.team.pk, None)[AlertKind.CPU].threshold == 90
    events = AuditEvent.objects.filter(action=AuditAction.ALERT_RULE_SET)
    assert events.count() == 3 and events.filter(details__removed=True).exists()


def test_admins_set_how_often_a_server_is_collected(crew: Crew, client: Client) -> None:
    server = new_server(crew)
    url = reverse("server_interval", args=[server.pk])
    client.force_login(crew.deployer)
    assert client.post(url, {"interval_seconds": 60}).status_code == 403
    client.force_login(crew.admin)
    client.post(url, {"interval_seconds": 5})
    assert not HostHealth.objects.exists()
    client.post(url, {"interval_seconds": 120})
    assert HostHealth.objects.get(server=server).interval_seconds == 120
    assert AuditEvent.objects.filter(action=AuditAction.COLLECTION_INTERVAL).exists()
