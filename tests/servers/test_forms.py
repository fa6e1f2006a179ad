from __future__ import annotations

import pytest

from servers.forms import ExecForm, KeyForm, NewServerForm
from servers.models import SshKey
from tests.conftest import Crew
from tests.servers.payloads import PAYLOADS


def _server_form(crew: Crew, key: SshKey, **overrides: object) -> NewServerForm:
    data = {
        "name": "web-1",
        "host": "web1.example.com",
        "port": "22",
        "user": "deploy",
        "ssh_key": str(key.pk),
        "labels": "web, eu",
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return NewServerForm(data, team=crew.team)


def test_a_sound_server_form_is_valid(crew: Crew, key: SshKey) -> None:
    form = _server_form(crew, key)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["labels"] == ["eu", "web"] and form.cleaned_data["port"] == 22


@pytest.mark.parametrize("field", ["name", "host", "user", "labels", "proxy_image"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_refused_in_every_shell_bound_field(
    crew: Crew, key: SshKey, field: str, payload: str
) -> None:
    form = _server_form(crew, key, **{field: payload})
    assert not form.is_valid()
    assert field in form.errors


@pytest.mark.parametrize("port", ["0", "65536", "-1", "22;ls", "", "1e3"])
def test_ports_outside_1_to_65535_are_refused(crew: Crew, key: SshKey, port: str) -> None:
    form = _server_form(crew, key, port=port)
    assert not form.is_valid() and "port" in form.errors


@pytest.mark.parametrize("host", ["10.0.0.5", "::1", "web-1.example.com", "localhost"])
def test_host_names_and_addresses_are_accepted(crew: Crew, key: SshKey, host: str) -> None:
    assert _server_form(crew, key, host=host).is_valid()


@pytest.mark.parametrize(
    "host", ["-oProxyCommand=x", "a b", "a_b.com", "host:22", "1.2.3.4.5", "ex..com"]
)
def test_malformed_hosts_are_refused(crew: Crew, key: SshKey, host: str) -> None:
    assert "host" in _server_form(crew, key, host=host).errors


def test_a_name_used_by_another_server_of_the_team_is_refused(crew: Crew, key: SshKey) -> None:
    form = _server_form(crew, key)
    assert form.is_valid()
    from servers.models import Server

    Server.objects.create(team=crew.team, name="web-1", host="h", ssh_key=key)
    assert "name" in _server_form(crew, key).errors


def test_another_teams_key_cannot_be_chosen(crew: Crew, key: SshKey) -> None:
    form = NewServerForm(
        {"name": "x", "host": "h.example", "port": "22", "user": "root", "ssh_key": str(key.pk)},
        team=crew.other_team,
    )
    assert "ssh_key" in form.errors


def test_exec_refuses_nul_and_overlong_commands(crew: Crew, key: SshKey) -> None:
    from servers.models import Server

    server = Server.objects.create(team=crew.team, name="web-1", host="h", ssh_key=key)
    for command in ("x\x00y", "a" * 10_000, "   "):
        form = ExecForm({"servers": [server.pk], "command": command}, team=crew.team)
        assert "command" in form.errors
    form = ExecForm({"servers": [server.pk], "command": "uptime; df -h"}, team=crew.team)
    assert form.is_valid()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_key_names_refuse_payloads(crew: Crew, payload: str) -> None:
    assert "name" in KeyForm({"name": payload}, team=crew.team).errors
