"""The security report and its SSH fix on the Debian lab host: passwords are accepted at
first; after the fix sshd accepts keys only, and the panel still logs in with its key."""

from __future__ import annotations

import asyncio

import pytest
from django.test import Client
from django.urls import reverse

from panel.jobs.runner import run_job
from panel.models import Job, JobKind
from servers import ssh
from servers.operations.hardening import harden_ssh
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab import debhost
from tests.lab.lab import Lab
from tests.servers.conftest import lab_server

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def test_the_report_finds_passwords_on_and_the_fix_turns_them_off(
    crew: Crew, lab: Lab, client: Client
) -> None:
    debhost.start()
    assert lab.debian is not None
    server = lab_server(crew, lab.debian)
    url = reverse("server_security", args=[server.pk])
    client.force_login(crew.admin)
    page = client.get(url).content.decode()
    assert "SSH accepts passwords" in page and "Turn passwords off" in page
    assert "22/tcp" in page and "No firewall filters incoming traffic" in page

    started = client.post(reverse("server_ssh_hardening", args=[server.pk]))
    job = Job.objects.get(kind=JobKind.SERVER_HARDEN)
    assert started["Location"] == reverse("job_detail", args=[job.pk])
    assert run_job(job.pk, harden_ssh) == "succeeded", log_of(job)
    assert "now accepts keys only" in log_of(job)
    settings = asyncio.run(ssh.run(target_for(server), ["sudo", "-n", "sshd", "-T"])).stdout
    assert "passwordauthentication no" in settings
    assert "SSH accepts keys only" in client.get(url).content.decode()  # a new connection
