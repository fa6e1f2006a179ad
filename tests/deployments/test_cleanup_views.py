"""The cleanup page: anyone of the team sees it, only admins start a cleanup, the posted items
must be the preview's kind of keys and volumes need their box ticked; nothing starts
otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse

from panel.models import Job, JobKind
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
                          "cache_days": 3, "volumes": ["old-data"]}  # fmt: skip
