"""Accessory pages: viewers see, admins add and boot, only owners remove data (with its name
typed); another team gets 404; every write is audited."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from deployments import accessory_services as services
from deployments.models import Accessory
from panel.models import AuditEvent, Job
from servers.models import Server
from tests.conftest import Crew


def _accessory(crew: Crew, server: Server) -> Accessory:
    return services.create_accessory(
        crew.actor(crew.admin), crew.team, name="db", server=server, kind="postgres"
    )


def test_an_admin_adds_an_accessory_of_a_kind_with_a_generated_password(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.admin)
    page = client.get(reverse("accessory_new")).content.decode()
    assert f'<option value="{server.pk}" selected>' in page  # the only server
    answer = client.post(
        reverse("accessory_new"), {"name": "db", "kind": "postgres", "server": server.pk}
    )
    accessory = Accessory.objects.get(name="db")
    assert answer.status_code == 302 and accessory.image == "postgres:17"
    assert AuditEvent.objects.filter(action="accessory.create").exists()
    detail = client.get(reverse("accessory_detail", args=[accessory.pk])).content.decode()
    assert "<code>db:5432</code>" in detail and "Nothing is published" in detail


def test_any_image_needs_its_image_and_names_are_checked(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.admin)
    page = client.post(
        reverse("accessory_new"), {"name": "Bad Name", "kind": "custom", "server": server.pk}
    ).content.decode()
    assert "Name the image to run." in page and "Use lowercase letters" in page
    assert not Accessory.objects.exists()


def test_viewers_see_deployers_cannot_boot_and_other_teams_get_404(
    crew: Crew, client: Client, server: Server
) -> None:
    accessory = _accessory(crew, server)
    client.force_login(crew.viewer)
    assert client.get(reverse("accessory_list")).status_code == 200
    assert client.get(reverse("accessory_detail", args=[accessory.pk])).status_code == 200
    client.force_login(crew.deployer)
    assert client.post(reverse("accessory_boot", args=[accessory.pk])).status_code == 403
    client.force_login(crew.outsider)
    assert client.get(reverse("accessory_detail", args=[accessory.pk])).status_code == 404
    assert not Job.objects.exists()


def test_booting_starts_an_audited_job(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    accessory = _accessory(crew, server)
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        answer = client.post(reverse("accessory_boot", args=[accessory.pk]))
    job = Job.objects.get()
    assert answer["Location"] == reverse("job_detail", args=[job.pk])
    assert job.kind == "accessory.boot"
    assert AuditEvent.objects.filter(action="job.accessory.boot").exists()


def test_removing_data_needs_the_name_typed_and_an_owner(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    accessory = _accessory(crew, server)
    url = reverse("accessory_remove", args=[accessory.pk])
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url, {"with_data": "on", "confirm_name": "wrong"})
        assert not Job.objects.exists()
        assert client.post(url, {"with_data": "on", "confirm_name": "db"}).status_code == 403
        client.force_login(crew.owner)
        client.post(url, {"with_data": "on", "confirm_name": "db"})
    job = Job.objects.get()
    assert job.kind == "accessory.remove" and job.params == {"with_data": True}


def test_files_are_kept_encrypted_audited_without_content_and_paths_checked(
    crew: Crew, client: Client, server: Server
) -> None:
    accessory = _accessory(crew, server)
    url = reverse("accessory_file", args=[accessory.pk])
    given = {"path": "/etc/app/token", "content": "file-secret-42", "secret": "on"}
    client.force_login(crew.deployer)
    assert client.post(url, given).status_code == 403
    client.force_login(crew.admin)
    for hostile in ("etc/x", "/etc/../x", "/etc/x;touch y", "/", "/etc/"):
        client.post(url, {**given, "path": hostile})
    client.post(url, given)
    accessory.refresh_from_db()
    stored = str(Accessory.objects.filter(pk=accessory.pk).values_list("env", flat=True)[0])
    assert "file-secret-42" not in stored and "file-secret-42" in accessory.env.reveal()
    assert '"/etc/app/token"' in accessory.env.reveal() and '"etc/x"' not in accessory.env.reveal()
    event = AuditEvent.objects.get(action="accessory.file.set")
    assert event.details == {"path": "/etc/app/token", "secret": True, "bytes": 14}
    page = client.get(reverse("accessory_detail", args=[accessory.pk])).content.decode()
    assert "/etc/app/token" in page and "file-secret-42" not in page
    client.post(reverse("accessory_file_remove", args=[accessory.pk]), {"path": "/etc/app/token"})
    accessory.refresh_from_db()
    assert "/etc/app/token" not in accessory.env.reveal()


def test_admins_see_the_password_on_a_page_not_cached_and_audited(
    crew: Crew, client: Client, server: Server
) -> None:
    accessory = _accessory(crew, server)
    url = reverse("accessory_password", args=[accessory.pk])
    password = services.show_password(crew.actor(crew.owner), accessory)
    client.force_login(crew.deployer)
    assert client.post(url).status_code == 403
    assert (
        password
        not in client.get(reverse("accessory_detail", args=[accessory.pk])).content.decode()
    )
    client.force_login(crew.admin)
    shown = client.post(url)
    assert password in shown.content.decode() and shown["Cache-Control"] == "no-store"
    assert client.get(url).status_code == 405
    assert AuditEvent.objects.filter(action="accessory.password.shown").count() == 2
