"""The firewall on a Debian lab host with its own Docker Engine and ufw: a published container
port is reached from another lab host until the rules go in, SSH stays open throughout, a
rule removed by hand is reported as drift, and rules that would cut the panel's SSH are
refused before anything runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from panel.jobs.runner import run_job
from panel.models import Job, JobKind
from servers.firewall import rules_from, text_of
from servers.models import Firewall, Server
from servers.operations.firewall import apply_firewall
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab import debhost, images
from tests.lab.config import HOSTS
from tests.lab.debhost import DebianHost
from tests.lab.lab import Lab
from tests.lab.proc import sh
from tests.servers.conftest import lab_server

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]

INDEX, PUBLISHED = 2, 8080


@pytest.fixture(scope="module")
def docker_host() -> Iterator[DebianHost]:
    host = debhost.start(INDEX, docker=True)
    debhost.load_image(INDEX, images.app_image("v1"))
    sh("docker", "exec", debhost.container(host.name), "docker", "run", "--detach",
       "--name", "web", "--publish", f"{PUBLISHED}:80", images.app_image("v1"))  # fmt: skip
    yield host
    debhost.remove(INDEX)


def reaches(address: str, port: int, origin: int = 0) -> bool:
    """From a lab host (the first, by default): does a TCP connection to the port open?"""
    probe = f"import socket; socket.create_connection(({address!r}, {port}), timeout=2).close()"
    return sh("ip", "netns", "exec", HOSTS[origin].netns, sys.executable, "-c", probe,
              check=False).returncode == 0  # fmt: skip


def apply(client: Client, server: Server, rules: str) -> Job:
    client.post(reverse("server_firewall", args=[server.pk]), {"rules": rules})
    page = client.get(reverse("server_firewall_live", args=[server.pk])).content.decode()
    assert "On the server now" in page
    shown = text_of(rules_from(Firewall.objects.get(server=server).rules))  # as the page has it
    client.post(reverse("server_firewall_apply", args=[server.pk]), {"rules": shown})
    job = Job.objects.get(kind=JobKind.SERVER_FIREWALL, target_id=server.pk, status="queued")
    run_job(job.pk, apply_firewall)
    job.refresh_from_db()
    return job


def test_rules_block_a_published_port_keep_ssh_and_show_drift(
    crew: Crew, lab: Lab, client: Client, docker_host: DebianHost
) -> None:
    server = lab_server(crew, docker_host)
    client.force_login(crew.admin)
    assert reaches(docker_host.address, PUBLISHED)  # Docker's port goes past ufw

    job = apply(client, server, "22/tcp")
    assert job.status == "succeeded", log_of(job)
    assert "answered through them over a fresh connection" in log_of(job)
    assert not reaches(docker_host.address, PUBLISHED)
    assert reaches(docker_host.address, 22)
    page = client.get(reverse("server_firewall_live", args=[server.pk])).content.decode()
    assert "ufw filters what reaches the host" in page and "no drift" in page

    sh("docker", "exec", debhost.container(docker_host.name),
       "iptables", "-D", "PANEL-DOCKER", "-j", "DROP")  # fmt: skip
    assert reaches(docker_host.address, PUBLISHED)
    page = client.get(reverse("server_firewall_live", args=[server.pk])).content.decode()
    assert "gone: -A PANEL-DOCKER -j DROP" in page and "Apply the rules" in page

    lab_host = lab.hosts[0].address
    job = apply(client, server, f"22/tcp\n{PUBLISHED}/tcp from {lab_host}")
    assert job.status == "succeeded", log_of(job)
    assert reaches(docker_host.address, PUBLISHED)  # allowed from there, and only there
    assert not reaches(docker_host.address, PUBLISHED, origin=1)
    ufw = sh("docker", "exec", debhost.container(docker_host.name), "ufw", "status").stdout
    assert f"{PUBLISHED}/tcp" in ufw.decode() and f"{lab_host}" in ufw.decode()


def test_rules_that_would_cut_the_panels_ssh_are_refused(
    crew: Crew, lab: Lab, client: Client, docker_host: DebianHost
) -> None:
    server = lab_server(crew, docker_host, name="cut-off")
    client.force_login(crew.admin)
    job = apply(client, server, "22/tcp from 192.0.2.0/24")
    page = client.get(reverse("server_firewall_live", args=[server.pk])).content.decode()
    assert "would cut the panel&#x27;s own SSH connection" in page
    assert job.status == "failed" and "Nothing was changed" in (job.error or log_of(job))
    assert reaches(docker_host.address, 22)
