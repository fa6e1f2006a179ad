from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from panel.models import AuditEvent, Job
from servers import keys
from servers.models import HostKeyState, Server, SshKey
from tests.conftest import Crew

OTHER_KEY = keys.generate()


@pytest.fixture
def server(crew: Crew, key: SshKey) -> Server:
    return Server.objects.create(
        team=crew.team,
        name="web-1",
        host="127.0.0.1",
        port=1,
        user="deploy",
        ssh_key=key,
        host_key_state=HostKeyState.TRUSTED,
        host_key=OTHER_KEY.public_key,
        host_key_fingerprint=OTHER_KEY.fingerprint,
    )


def _pages(server: Server, key: SshKey) -> list[tuple[str, str]]:
    return [
        ("get", reverse("server_detail", args=[server.pk])),
        ("get", reverse("server_edit", args=[server.pk])),
        ("post", reverse("server_edit", args=[server.pk])),
        ("post", reverse("server_delete", args=[server.pk])),
        ("post", reverse("host_key_fetch", args=[server.pk])),
        ("post", reverse("host_key_trust", args=[server.pk])),
        ("post", reverse("server_check", args=[server.pk])),
        ("post", reverse("server_bootstrap", args=[server.pk])),
        ("get", reverse("key_detail", args=[key.pk])),
        ("post", reverse("key_delete", args=[key.pk])),
    ]


def test_another_team_gets_404_on_every_server_page_and_action(
    crew: Crew, client: Client, server: Server, key: SshKey
) -> None:
    client.force_login(crew.outsider)
    for method, url in _pages(server, key):
        assert getattr(client, method)(url).status_code == 404, url
    assert Server.objects.filter(pk=server.pk).exists() and not Job.objects.exists()


def test_another_teams_server_cannot_be_picked_for_exec(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.outsider)
    response = client.post(reverse("server_exec"), {"servers": [server.pk], "command": "id"})
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert not Job.objects.exists()


@pytest.mark.parametrize("name", ["server_bootstrap", "server_delete", "host_key_trust"])
def test_a_viewer_and_a_deployer_get_403_and_no_job(
    crew: Crew, client: Client, server: Server, name: str
) -> None:
    for user in (crew.viewer, crew.deployer):
        client.force_login(user)
        assert client.post(reverse(name, args=[server.pk])).status_code == 403
    assert not Job.objects.exists() and Server.objects.filter(pk=server.pk).exists()


def test_a_viewer_cannot_exec(crew: Crew, client: Client, server: Server) -> None:
    for user in (crew.viewer, crew.deployer):
        client.force_login(user)
        response = client.post(reverse("server_exec"), {"servers": [server.pk], "command": "id"})
        assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_viewer_cannot_check_but_a_deployer_can(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: object
) -> None:
    client.force_login(crew.viewer)
    assert client.post(reverse("server_check", args=[server.pk])).status_code == 403
    client.force_login(crew.deployer)
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        assert client.post(reverse("server_check", args=[server.pk])).status_code == 302
    assert Job.objects.get().kind == "server.check"


def test_an_admin_starts_exec_with_an_audited_command(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: object
) -> None:
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):  # type: ignore[operator]
        client.post(reverse("server_exec"), {"servers": [server.pk], "command": "df -h /"})
    job = Job.objects.get()
    assert job.params == {"servers": [server.pk], "command": "df -h /"}
    assert AuditEvent.objects.get(action="job.server.exec").details["command"] == "df -h /"


def test_generating_a_key_shows_the_public_key_and_never_the_private(
    crew: Crew, client: Client
) -> None:
    client.force_login(crew.admin)
    response = client.post(reverse("key_new"), {"name": "deploy"}, follow=True)
    key = SshKey.objects.get(name="deploy")
    page = response.content.decode()
    assert key.public_key in page and "ssh-ed25519" in page
    private = key.private_key.reveal()
    assert "PRIVATE KEY" in private
    for url in (reverse("key_detail", args=[key.pk]), reverse("key_list")):
        body = client.get(url).content.decode()
        assert "PRIVATE KEY" not in body and private.splitlines()[1] not in body


def test_importing_an_encrypted_key_needs_its_passphrase(crew: Crew, client: Client) -> None:
    import asyncssh

    private = asyncssh.generate_private_key("ssh-ed25519")
    encrypted = private.export_private_key("openssh", passphrase="open sesame").decode()
    client.force_login(crew.admin)
    wrong = client.post(
        reverse("key_new"), {"name": "imp", "private_key": encrypted, "passphrase": "no"}
    )
    assert b"passphrase does not open" in wrong.content and not SshKey.objects.exists()
    client.post(
        reverse("key_new"), {"name": "imp", "private_key": encrypted, "passphrase": "open sesame"}
    )
    stored = SshKey.objects.get(name="imp")
    assert stored.fingerprint == private.get_fingerprint()
    assert AuditEvent.objects.filter(action="ssh_key.import").exists()
    assert "open sesame" not in str(AuditEvent.objects.values_list("details", flat=True)[0])


def test_adding_a_server_records_it_untrusted_and_says_why(
    crew: Crew, client: Client, key: SshKey
) -> None:
    client.force_login(crew.admin)
    response = client.post(
        reverse("server_new"),
        {"name": "db-1", "host": "127.0.0.1", "port": "1", "user": "root", "ssh_key": str(key.pk)},
        follow=True,
    )
    server = Server.objects.get(name="db-1")
    assert server.host_key_state == HostKeyState.UNCONFIRMED
    assert b"Could not read the host key" in response.content
    assert AuditEvent.objects.filter(action="server.create").exists()


def test_moving_a_server_forgets_its_host_key(
    crew: Crew, client: Client, server: Server, key: SshKey
) -> None:
    client.force_login(crew.admin)
    client.post(
        reverse("server_edit", args=[server.pk]),
        {
            "name": "web-1",
            "host": "10.9.9.9",
            "port": "22",
            "user": "deploy",
            "ssh_key": str(key.pk),
        },
    )
    server.refresh_from_db()
    assert server.host == "10.9.9.9" and server.host_key_state == HostKeyState.UNCONFIRMED
    assert server.host_key == ""


def test_trusting_needs_the_fingerprint_that_was_shown(
    crew: Crew, client: Client, server: Server
) -> None:
    offered = keys.generate()
    Server.objects.filter(pk=server.pk).update(
        host_key_state=HostKeyState.CHANGED,
        offered_host_key=offered.public_key,
        offered_host_key_fingerprint=offered.fingerprint,
    )
    client.force_login(crew.admin)
    client.post(reverse("host_key_trust", args=[server.pk]), {"fingerprint": "SHA256:other"})
    server.refresh_from_db()
    assert server.host_key_state == HostKeyState.CHANGED
    client.post(reverse("host_key_trust", args=[server.pk]), {"fingerprint": offered.fingerprint})
    server.refresh_from_db()
    assert server.host_key_state == HostKeyState.TRUSTED and server.host_key == offered.public_key
    assert AuditEvent.objects.filter(action="server.host_key_retrust").exists()


def test_the_server_list_shows_status(crew: Crew, client: Client, server: Server) -> None:
    client.force_login(crew.viewer)
    page = client.get(reverse("server_list")).content.decode()
    assert "web-1" in page and "deploy@127.0.0.1:1" in page and "not checked" in page


def test_the_server_list_filters_by_name_or_address(
    crew: Crew, client: Client, server: Server, django_assert_max_num_queries: Any
) -> None:
    Server.objects.bulk_create(
        Server(team=crew.team, name=f"db-{n}", host=f"10.9.9.{n}", ssh_key=server.ssh_key)
        for n in range(1, 61)
    )
    client.force_login(crew.viewer)
    with django_assert_max_num_queries(10):
        by_address = client.get(reverse("server_list") + "?q=10.9.9.1").content.decode()
    assert "db-1" in by_address and "web-1" not in by_address and "11 matching" in by_address
    by_name = client.get(reverse("server_list") + "?q=WEB").content.decode()
    assert "web-1" in by_name and "db-1" not in by_name
    assert "Page 1 of 2" in client.get(reverse("server_list")).content.decode()
