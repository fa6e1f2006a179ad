"""An app deployed on the lab, checked from the panel through its proxy as a visitor would:
up; its container stopped, the proxy answers 502 and two checks later an alert opens, with a
message in the SMTP sink; started again, the alert resolves."""

from __future__ import annotations

import asyncio

import pytest

from deployments.models import Container
from monitoring import services as monitoring_services
from monitoring.models import Alert, AlertKind, UptimeCheck
from monitoring.operations import uptime
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp
from tests.deployments.test_deploy_lab import deploy_version
from tests.lab import services as lab_services

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def test_an_app_domain_that_starts_failing_opens_an_uptime_alert(
    crew: Crew, web_servers: list[Server], make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = web_servers[0]
    app = make_app("watched", [server])
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    domain = app.domains[0]
    monkeypatch.setitem(uptime.RESOLVE, domain, server.host)  # as DNS would send a visitor
    monitoring_services.create_channel(
        crew.actor(crew.admin), crew.team, name="mail", url=lab_services.MAIL_URL, kinds=[]
    )
    lab_services.empty_inbox()
    assert uptime.check_all() == 1
    check = UptimeCheck.objects.get(app=app)
    assert check.url == f"http://{domain}/" and check.last_status == 200

    app.refresh_from_db()
    container = Container.objects.get(release=app.current_release, running=True).name
    target = target_for(server)
    asyncio.run(ssh.run(target, ["docker", "stop", container]))
    try:
        uptime.check_all()
        check.refresh_from_db()
        assert check.last_status == 502 and not Alert.objects.exists()
        uptime.check_all()
        alert = Alert.objects.get(kind=AlertKind.UPTIME, subject=check.url)
        assert alert.resolved_at is None
        mails = lab_services.inbox("mail")
        assert any(f"[Alert] {check.url} is down" in mail["content"] for mail in mails)
    finally:
        asyncio.run(ssh.run(target, ["docker", "start", container]))
    uptime.check_all()
    alert.refresh_from_db()
    assert alert.resolved_at is not None
