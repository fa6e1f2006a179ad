"""The panel's own database on the lab: a consistent copy streamed over SSH into restic on a lab
host, its snapshot holding the teams; the key ring is named and fingerprinted, never in it."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from backups import services as backup_services
from backups.models import Backup
from backups.operations.backup import Restic
from backups.operations.panel_backup import back_up_panel, key_ring_fingerprint
from panel.crypto import key_ring
from panel.jobs.runner import run_job
from servers import ssh
from servers.models import Server
from tests.backups.lab_backups import FOLDER, clean
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab.images import service_image

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def test_the_panels_database_is_streamed_into_restic_without_its_key_ring(
    crew: Crew, web_servers: list[Server], client: Client
) -> None:
    server = web_servers[0]
    clean(server)
    repository = backup_services.create_repository(
        crew.actor(crew.admin), crew.team, name="panel", kind="local", server=server,
        folder=FOLDER, image=service_image("restic"),
    )  # fmt: skip
    client.force_login(crew.admin)
    assert client.get(reverse("panel_backups")).status_code == 403  # a team admin only
    crew.owner.is_superuser = True
    crew.owner.save()
    client.force_login(crew.owner)
    client.post(reverse("panel_backups"), {"repository": repository.pk, "server": server.pk,
                                            "schedule": "30 2 * * *", "keep_last": 3,
                                            "keep_daily": 0})  # fmt: skip
    page = client.get(reverse("panel_backups")).content.decode()
    assert key_ring_fingerprint() in page and "keeps --keep-last=3" in page
    job = backup_services.start_panel_backup(crew.actor(crew.owner))
    try:
        assert run_job(job.pk, back_up_panel) == "succeeded", log_of(job)
        backup = Backup.objects.get(of_panel=True)
        assert backup.succeeded and backup.bytes_read > 0
        restic = Restic(repository, server)
        name = "panel.sqlite3" if connection.vendor == "sqlite" else "panel.sql"
        dumped = asyncio.run(restic_dump(restic, backup.snapshot_id, name))
        if connection.vendor == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                copy = Path(folder) / name
                copy.write_bytes(dumped)
                teams = sqlite3.connect(copy).execute("SELECT name FROM panel_team").fetchall()
            assert (crew.team.name,) in teams
        else:
            assert b"panel_team" in dumped and crew.team.name.encode() in dumped
        for entry in settings.PANEL_ENCRYPTION_KEYS:  # the ring is never in the backup
            assert entry.partition(":")[2].encode() not in dumped
        assert all(key not in dumped for key in key_ring().keys.values())
    finally:
        clean(server)


async def restic_dump(restic: Restic, snapshot: str, name: str) -> bytes:
    done = await ssh.run(restic.target, restic.argv(["dump", snapshot, f"/{name}"]),
                         keep_bytes=True)  # fmt: skip
    return done.raw_stdout
