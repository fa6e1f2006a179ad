"""Adding a lab host with a fingerprint that is not its key: a warning with both
fingerprints, an audit trace, and trusting it anyway takes a second, explicit step."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from panel.models import AuditEvent
from servers import keys
from servers.models import HostKeyState, Server
from tests.conftest import Crew
from tests.lab.lab import Lab
from tests.servers.conftest import lab_key

pytestmark = pytest.mark.lab


def test_a_fingerprint_that_does_not_match_warns_and_needs_a_second_step(
    crew: Crew, client: Client, lab: Lab
) -> None:
    host = lab.hosts[0]
    key = lab_key(crew, host)
    wrong = keys.fingerprint(keys.generate().public_key)
    client.force_login(crew.admin)
    response = client.post(
        reverse("server_new"),
        {"name": "checked", "host": host.address, "port": "22", "user": host.user,
         "ssh_key": key.pk, "expected_fingerprint": wrong},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    server = Server.objects.get(name="checked")
    presented = keys.fingerprint(keys.public_key_line(host.host_public_key))
    assert 'class="message warning"' in page and "not the fingerprint you gave" in page
    assert f'id="given-fingerprint">{wrong}<' in page
    assert f'id="offered-fingerprint">{presented}<' in page
    event = AuditEvent.objects.get(action="server.host_key_mismatch", target_id=str(server.pk))
    assert event.details == {"given": wrong, "presented": presented}

    trust = reverse("host_key_trust", args=[server.pk])
    client.post(trust, {"fingerprint": presented})
    server.refresh_from_db()
    assert server.host_key_state != HostKeyState.TRUSTED
    client.post(trust, {"fingerprint": presented, "checked": "on"})
    server.refresh_from_db()
    assert server.host_key_state == HostKeyState.TRUSTED
    assert server.expected_host_key_fingerprint == ""
