"""The updates page and its writes: anyone of the team sees the last check, deployers start
a check, only admins upgrade or reboot, and only from a check that says the login may; an
upgrade runs exactly the versions of the check the person saw."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client
from django.urls import reverse

from deployments import upkeep_services
from deployments.models import UpgradeWindow
from panel.models import AuditAction, AuditEvent, Job, JobKind
from servers.models import Server, ServerUpdates
from servers.operations.updates import record
from servers.updates import parse
from tests.conftest import Crew, new_server

CHECK = """os_id=debian
os=Debian GNU/Linux 12 (bookworm)
privilege={privilege}
refreshed=yes
--- simulated upgrade
Inst panel-demo [1.0] (1.1 PanelLab-Security:12/bookworm-security [all])
Inst docker.io [20.10.24] (20.10.25 Debian:12.6/stable [amd64])
--- end
reboot_required=yes
reboot_package=panel-demo
"""


def _checked(server: Server, privilege: str = "sudo") -> ServerUpdates:
    record(server, parse(CHECK.format(privilege=privilege)))
    return ServerUpdates.objects.get(server=server)


def test_the_page_shows_the_check_and_who_may_do_what(crew: Crew, client: Client) -> None:
    server = new_server(crew)
    url = reverse("server_updates", args=[server.pk])
    client.force_login(crew.viewer)
    assert "Not checked yet" in client.get(url).content.decode()
    _checked(server)
    page = client.get(url).content.decode()
    assert "panel-demo" in page and "security" in page and "can restart docker" in page
    assert "A reboot is required for panel-demo" in page
    assert 'id="upgrade-form"' not in page and 'id="reboot-form"' not in page  # a viewer
    client.force_login(crew.admin)
    page = client.get(url).content.decode()
    assert 'id="upgrade-form"' in page and 'id="reboot-form"' in page
    assert "install --only-upgrade" in page  # the exact commands, before anything runs
    detail = client.get(reverse("server_detail", args=[server.pk])).content.decode()
    assert "1 security update, reboot required" in detail
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "1 has security updates" in dashboard and "1 needs a reboot" in dashboard
    client.force_login(crew.outsider)
    assert client.get(url).status_code == 404


def test_only_admins_upgrade_and_only_what_they_saw(
    crew: Crew, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    server = new_server(crew)
    stored = _checked(server)
    form = {
        "scope": "security",
        "reboot": "if-required",
        "checked_at": stored.checked_at.isoformat(),
    }
    url = reverse("server_upgrade", args=[server.pk])
    client.force_login(crew.deployer)
    assert client.post(url, form).status_code == 403
    with django_capture_on_commit_callbacks(execute=False):
        check = client.post(reverse("server_updates_check", args=[server.pk]))
    assert check.status_code == 302 and Job.objects.get().kind == JobKind.SERVER_UPDATES
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        for bad in ({"scope": "everything"}, {"reboot": "maybe"}, {"checked_at": "2020-01-01"}):
            refused = client.post(url, {**form, **bad}, follow=True).content.decode()
            assert "review it again" in refused or "Choose which updates" in refused
        started = client.post(url, form)
    job = Job.objects.get(kind=JobKind.SERVER_UPGRADE)
    assert started.status_code == 302
    assert job.params == {**form, "packages": ["panel-demo=1.1"]}
    assert AuditEvent.objects.filter(action=AuditAction.JOB_SERVER_UPGRADE).exists()
    with django_capture_on_commit_callbacks(execute=False):
        busy = client.post(reverse("server_reboot", args=[server.pk]), follow=True)
    assert f"busy with job #{job.pk}" in busy.content.decode()


def test_no_upgrade_or_reboot_without_a_check_that_allows_it(
    crew: Crew, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    server = new_server(crew)
    client.force_login(crew.admin)
    reboot = reverse("server_reboot", args=[server.pk])
    with django_capture_on_commit_callbacks(execute=False):
        assert "Check for updates first" in client.post(reboot, follow=True).content.decode()
        _checked(server, privilege="none")
        page = client.get(reverse("server_updates", args=[server.pk])).content.decode()
        assert "can check, not upgrade or reboot" in page and 'id="reboot-form"' not in page
        refused = client.post(reboot, follow=True).content.decode()
        assert "neither root nor allowed sudo" in refused
    assert not Job.objects.exists()


def test_deployers_check_every_trusted_server_at_once(
    crew: Crew, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    first, second = new_server(crew, "web-1"), new_server(crew, "web-2")
    untrusted = new_server(crew, "new-1")
    untrusted.host_key_state = "unconfirmed"
    untrusted.save()
    url = reverse("server_updates_checks")
    client.force_login(crew.viewer)
    assert client.post(url).status_code == 403
    client.force_login(crew.deployer)
    with django_capture_on_commit_callbacks(execute=False):
        started = client.post(url)
    job = Job.objects.get(kind=JobKind.SERVER_UPDATES)
    assert started["Location"] == reverse("job_detail", args=[job.pk])
    assert job.params == {"servers": sorted([first.pk, second.pk])}
    assert job.target_label == "2 servers"
    listing = client.get(reverse("server_list")).content.decode()
    assert 'id="check-all-updates"' in listing


def test_an_upgrade_window_opens_once_per_tick_and_waits_while_the_server_is_busy(
    crew: Crew, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    server = new_server(crew)
    url = reverse("server_upgrade_window", args=[server.pk])
    client.force_login(crew.deployer)
    assert (
        client.post(url, {"schedule": "0 4 * * 2", "scope": "all", "reboot": "no"}).status_code
        == 403
    )
    client.force_login(crew.admin)
    bad = client.post(url, {"schedule": "tuesdays", "scope": "all", "reboot": "no"}, follow=True)
    assert "is not a schedule" in bad.content.decode()
    client.post(url, {"schedule": "0 4 * * 2", "scope": "security", "reboot": "if-required"})
    window = UpgradeWindow.objects.get(server=server)
    assert AuditEvent.objects.filter(action=AuditAction.UPGRADE_WINDOW_SET).count() == 1
    page = client.get(reverse("server_updates", args=[server.pk])).content.decode()
    assert "At 04:00 AM, only on Tuesday".lower() in page.lower()

    tuesday = datetime(2030, 1, 1, 4, 0, 30, tzinfo=UTC)
    UpgradeWindow.objects.filter(pk=window.pk).update(created_at=tuesday - timedelta(days=7))
    with django_capture_on_commit_callbacks(execute=False):
        started = upkeep_services.start_due_upgrades(tuesday)
        assert upkeep_services.start_due_upgrades(tuesday) == []  # this tick is taken
    assert [job.params for job in started] == [
        {"scope": "security", "reboot": "if-required", "window": True}
    ]
    next_week = tuesday + timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=False):
        assert upkeep_services.start_due_upgrades(next_week) == []  # the first one still runs
    window.refresh_from_db()
    assert window.last_started_at == tuesday  # given back: the next tick tries again
    client.post(url, {"schedule": "", "scope": "security", "reboot": "no"})
    assert not UpgradeWindow.objects.exists()
