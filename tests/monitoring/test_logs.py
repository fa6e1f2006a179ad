"""Host logs: what reaches the host is one script and the filters as single arguments; bad
filters are refused before anything runs; only deployers and up follow a server's logs."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from monitoring import commands
from tests.conftest import Crew, new_server


def test_filters_reach_the_host_as_single_arguments() -> None:
    argv = commands.host_log("ssh.service", "err", "", "it's $(reboot) `x`", 100)
    assert argv[:3] == ["sh", "-c", commands.HOST_LOG]
    assert argv[3:] == ["it's $(reboot) `x`", "ssh.service", "err", "", "100"]
    assert commands.container_log("shop-web-v1", "GET /", 50)[3:] == ["GET /", "50", "shop-web-v1"]


@pytest.mark.parametrize(
    "query",
    [{"unit": "ssh; reboot"}, {"priority": "loud"}, {"file": "/etc/shadow"},
     {"file": "/var/log/../../etc/shadow"}, {"unit": "x" * 300}],
)  # fmt: skip
def test_bad_filters_are_refused_before_anything_runs(
    crew: Crew, client: Client, query: dict[str, str]
) -> None:
    server = new_server(crew)
    client.force_login(crew.deployer)
    answer = client.get(reverse("server_logs_stream", args=[server.pk]), query)
    assert answer.status_code == 400
    page = client.get(reverse("server_logs", args=[server.pk]), query).content.decode()
    assert "sse-connect" not in page


def test_viewers_do_not_follow_a_servers_logs(crew: Crew, client: Client) -> None:
    server = new_server(crew)
    client.force_login(crew.viewer)
    assert client.get(reverse("server_logs", args=[server.pk])).status_code == 403
    client.force_login(crew.deployer)
    page = client.get(reverse("server_logs", args=[server.pk])).content.decode()
    assert "sse-connect" in page and "containers=on" in page
