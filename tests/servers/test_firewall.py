"""The firewall's rules as a person writes them, the chains they become, the plan that never
closes the panel's SSH port, and drift in words; the page's roles and stale previews."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from panel.models import Job
from servers.commands.firewall import chains_script
from servers.firewall import Live, Rule, docker_rules, drift, parse_rules, text_of
from servers.firewall_plans import Refused, plan_firewall
from servers.models import Firewall
from servers.plans import Host
from tests.conftest import Crew, new_server

HOST = Host(1, "web1")


def live(**changes: Any) -> Live:
    return replace(Live("sudo", "inactive", True, "203.0.113.5", 22, ()), **changes)


def test_rules_are_read_one_a_line_with_defaults_and_normal_forms() -> None:
    rules = parse_rules("22\n443/TCP  # the web\n\n60000:61000/udp\n5432/tcp from 10.1.2.3/8\n22")
    assert rules == [Rule("22"), Rule("443"), Rule("60000:61000", "udp"),
                     Rule("5432", "tcp", "10.0.0.0/8")]  # fmt: skip
    assert text_of(rules).splitlines()[-1] == "5432/tcp from 10.0.0.0/8"


@pytest.mark.parametrize("line", [
    "0/tcp", "65536", "22/icmp", "22/tcp from", "22/tcp to 10.0.0.1", "80:22/tcp",
    "22/tcp from example.com", "22;reboot", "$(reboot)/tcp", "22/tcp from 10.0.0.0/8 x",
    "22/tcp from ::1", "٢٢/tcp",
])  # fmt: skip
def test_bad_lines_are_named(line: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_rules(f"22/tcp\n{line}")
    assert "Line 2" in str(refused.value)


def test_published_ports_are_filtered_by_their_port_before_docker_rewrote_it() -> None:
    chain = docker_rules([Rule("22"), Rule("8080", "tcp", "10.0.0.0/8")])
    assert chain[1:3] == [
        "-A PANEL-DOCKER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-A PANEL-DOCKER -m conntrack ! --ctstate DNAT -j RETURN",
    ]
    assert (
        "-A PANEL-DOCKER -s 10.0.0.0/8 -p tcp -m conntrack --ctorigdstport 8080 -j RETURN" in chain
    )
    assert chain[-1] == "-A PANEL-DOCKER -j DROP"


def test_the_chains_are_replaced_in_one_restore_and_the_host_chain_only_without_ufw() -> None:
    with_ufw = chains_script([Rule("22")], with_ufw=True)
    assert with_ufw.count("COMMIT") == 1 and "PANEL-INPUT - [0:0]" not in with_ufw
    assert "iptables -X PANEL-INPUT" in with_ufw  # a chain of before ufw goes
    without = chains_script([Rule("22")], with_ufw=False)
    assert "-A PANEL-INPUT -p tcp -m tcp --dport 22 -j RETURN" in without
    assert "iptables -I INPUT 1 -j PANEL-INPUT" in without


def test_ufw_rules_go_in_ssh_first_before_the_default_deny_and_stale_ones_after() -> None:
    rules = [Rule("443"), Rule("22", "tcp", "203.0.113.0/24")]
    commands = plan_firewall(HOST, rules, [Rule("8080")], live()).commands()
    assert commands[0].endswith("ufw allow in proto tcp from 203.0.113.0/24 to any port 22 "
                                "comment panel")  # fmt: skip
    assert [i for i, x in enumerate(commands) if "default deny" in x] == [2]
    assert "ufw delete allow in proto tcp to any port 8080 comment panel" in commands[4]
    assert all(x.startswith("[web1] sudo -n ") for x in commands)


def test_rules_that_would_cut_the_panels_ssh_are_refused() -> None:
    with pytest.raises(Refused, match=r"203\.0\.113\.5"):
        plan_firewall(HOST, [Rule("22", "tcp", "10.0.0.0/8"), Rule("443")], [], live())
    with pytest.raises(Refused, match="2222/tcp"):
        plan_firewall(HOST, [Rule("22")], [], live(ssh_port=2222))
    with pytest.raises(Refused, match="neither root"):
        plan_firewall(HOST, [Rule("22")], [], live(privilege="none"))


def test_drift_names_lines_gone_and_lines_not_the_panels() -> None:
    now = live(lines=("-A PANEL-DOCKER -j DROP", "ufw: 9000/tcp ALLOW IN Anywhere"))
    found = drift(["-A PANEL-DOCKER -j DROP", "-A DOCKER-USER -j PANEL-DOCKER"], now)
    assert found == ["gone: -A DOCKER-USER -j PANEL-DOCKER",
                     "not the panel's: ufw: 9000/tcp ALLOW IN Anywhere"]  # fmt: skip


@pytest.mark.django_db
def test_only_admins_set_and_apply_and_a_changed_rule_set_is_looked_at_again(
    crew: Crew, client: Client
) -> None:
    server = new_server(crew)
    url = reverse("server_firewall", args=[server.pk])
    client.force_login(crew.deployer)
    assert client.post(url, {"rules": "22/tcp"}).status_code == 403
    assert client.post(reverse("server_firewall_apply", args=[server.pk])).status_code == 403
    client.force_login(crew.admin)
    assert client.post(url, {"rules": "22/tcp\n443/tcp"}).status_code == 302
    assert Firewall.objects.get(server=server).rules[1] == {"ports": "443", "proto": "tcp",
                                                           "source": ""}  # fmt: skip
    stale = client.post(reverse("server_firewall_apply", args=[server.pk]), {"rules": "22/tcp"})
    assert stale.status_code == 302 and not Job.objects.exists()
    bad = client.post(url, {"rules": "22/tcp\n99999/tcp"})
    assert "Line 2" in bad.content.decode() and len(Firewall.objects.get().rules) == 2
    client.post(reverse("server_firewall_apply", args=[server.pk]), {"rules": "22/tcp\n443/tcp"})
    assert Job.objects.get().params == {"rules": Firewall.objects.get().rules}
