"""The cleanup page: anyone of the team sees it, only admins start a cleanup, the posted items
must be the preview's kind of keys and volumes need their box ticked; nothing starts
otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.test import Client
from django.urls import reverse

from deployments import services
from deployments.models import CleanupSchedule
from panel.models import AuditAction, AuditEvent, Job, JobKind
from servers.models import HostKeyState
from tests.conftest import Crew, new_server


def test_only_admins_clean_up_and_only_what_a_preview_lists(
    crew: Crew, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    server = new_server(crew)
    server.host_key_state = HostKeyState.UNCONFIRMED  # nothing asks it
    server.save()
    url = reverse("server_disk", args=[server.pk])
    client.force_login(crew.viewer)
    assert "not trusted yet" in client.get(url).content.decode()
    assert client.post(url, {"cache_days": 7, "items": ["image:sha256:ab"]}).status_code == 403
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        bad = client.post(url, {"cache_days": 7, "items": ["image:$(reboot)"]})
        assert "not one the preview made" in bad.content.decode()
        unticked = client.post(url, {"cache_days": 7, "volumes": "old-data", "items": []})
        assert "Removing volumes needs this ticked." in unticked.content.decode()
        named = client.post(url, {"cache_days": 7, "volumes": "../etc", "confirm_volumes": "on"})
        assert "Not a volume name" in named.content.decode()
        assert not Job.objects.exists()
        started = client.post(url, {
            "cache_days": 3, "volumes": "old-data", "confirm_volumes": "on",
            "items": ["image:sha256:ab", "volume:old-data", "cache:3d"],
        })  # fmt: skip
    job = Job.objects.get()
    assert started.status_code == 302 and job.kind == JobKind.SERVER_CLEANUP
    assert job.params == {"items": ["cache:3d", "image:sha256:ab", "volume:old-data"],
                          "every": False, "cache_days": 3, "volumes": ["old-data"]}  # fmt: skip


def test_a_schedule_cleans_up_every_candidate_once_per_tick(
    crew: Crew, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    server = new_server(crew)
    server.host_key_state = HostKeyState.UNCONFIRMED
    server.save()
    url = reverse("server_cleanup_schedule", args=[server.pk])
    client.force_login(crew.deployer)
    assert client.post(url, {"schedule": "0 4 * * 0", "cache_days": 7}).status_code == 403
    client.force_login(crew.admin)
    client.post(url, {"schedule": "every sunday", "cache_days": 7})
    assert not CleanupSchedule.objects.exists()
    page = client.post(url, {"schedule": "0 4 * * 0", "cache_days": 3}, follow=True)
    assert "cleaned up at 04:00 am, only on sunday" in page.content.decode().lower()
    planned = CleanupSchedule.objects.get()
    sunday = datetime(2026, 11, 29, 4, 0, 30, tzinfo=UTC)
    CleanupSchedule.objects.filter(pk=planned.pk).update(created_at=sunday - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=False):
        assert services.start_due_cleanups(sunday - timedelta(hours=1)) == []
        (job,) = services.start_due_cleanups(sunday)
        assert services.start_due_cleanups(sunday + timedelta(seconds=30)) == []
    assert job.params == {"items": [], "every": True, "cache_days": 3, "volumes": []}
    assert job.actor_label.startswith("schedule")
    client.post(url, {"schedule": "", "cache_days": 7})
    assert not CleanupSchedule.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.CLEANUP_SCHEDULED).count() == 2
