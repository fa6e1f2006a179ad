"""An accessory of any image, its volumes backed up on the lab: a named volume and a host path,
mounted read-only into restic; the snapshot verified (every byte read back, files counted);
one file read back for a download; and after files are deleted, the snapshot restored into the
live volumes with identical bytes, or, when that fails half-way, the live files as they were."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from backups import services as backup_services
from backups.models import Backup, Verification
from backups.operations import files
from backups.operations.verify import verify
from deployments import accessory_services as services
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.operations import accessories as operations
from panel.jobs.runner import run_job
from panel.models import AuditAction, AuditEvent
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.backups.lab_backups import back_up_now, clean, local
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.deployments.lab_accessories import added, gone
from tests.lab.images import service_image

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
VOLUME, HOST_PATH = "panel-test-files", "/tmp/panel-test-files"
SUMS = "cd /srv && find . -type f | sort | xargs sha256sum"


@pytest.fixture
def box(crew: Crew, web_servers: list[Server]) -> Iterator[Accessory]:
    server = web_servers[0]
    target = target_for(server)
    clean(server)
    accessory = added(
        crew, server, "filebox", "custom", image=service_image("redis"), port=6379,
        command="redis-server --protected-mode no",
        volumes=[f"{VOLUME}:/srv/files", f"{HOST_PATH}:/srv/host"],
    )  # fmt: skip
    boot = services.start_accessory_job(crew.actor(crew.admin), accessory, "boot")
    assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
    _in(accessory, "mkdir -p /srv/files/deep/er && echo hello > /srv/files/a.txt && head -c "
        "3000000 /dev/urandom > /srv/files/deep/er/blob && echo h > /srv/host/h.txt")  # fmt: skip
    yield accessory
    gone(accessory)
    asyncio.run(ssh.run(target, ["docker", "volume", "rm", "-f", VOLUME], check=False))
    removal = ["docker", "run", "--rm", "-v", "/tmp:/t", "--entrypoint", "rm",
               service_image("restic"), "-rf", "/t/panel-test-files"]  # fmt: skip
    asyncio.run(ssh.run(target, removal))
    clean(server)


def _in(accessory: Accessory, script: str) -> str:
    argv = ["docker", "exec", accessories.container(accessory.name), "sh", "-c", script]
    return asyncio.run(ssh.run(target_for(accessory.server), argv)).stdout


def test_volumes_back_up_verify_give_a_file_back_and_restore_into_live_with_identical_bytes(
    crew: Crew, box: Accessory, monkeypatch: pytest.MonkeyPatch, client: Client
) -> None:
    repository = local(crew, box)
    wanted = _in(box, SUMS)
    outcome, log = back_up_now(crew, box, repository)
    assert outcome == "succeeded", log
    backup = Backup.objects.get(repository=repository)
    assert backup.rows == "/data 3", backup.rows

    job = backup_services.start_verification(crew.actor(crew.admin), box)
    assert run_job(job.pk, verify) == "succeeded", log_of(job)
    assert "every byte checked" in Verification.objects.get().detail

    client.force_login(crew.admin)
    page = client.get(reverse("backup_files", args=[box.pk, backup.pk])).content.decode()
    assert "/data/srv/files/a.txt" in page and "/data/srv/host/h.txt" in page
    answer = client.get(reverse("backup_file_download", args=[box.pk, backup.pk]),
                        {"path": "/data/srv/files/a.txt"})  # fmt: skip
    assert answer.content == b"hello\n" and "attachment" in answer["Content-Disposition"]
    read = AuditEvent.objects.get(action=AuditAction.BACKUP_FILE_DOWNLOADED)
    assert read.details["path"] == "/data/srv/files/a.txt" and read.details["bytes"] == 6

    _in(box, "rm -rf /srv/files/deep /srv/host/h.txt && echo changed > /srv/files/a.txt")
    broken = _in(box, SUMS)
    dying = files.WIPE_AND_RESTORE.replace("exec restic restore", "exit 1; restic restore")
    monkeypatch.setattr(files, "WIPE_AND_RESTORE", dying)  # the files wiped, then it fails
    job = backup_services.start_files_restore(crew.actor(crew.owner), box, backup, "filebox")
    assert run_job(job.pk, files.restore_files) == "failed", log_of(job)
    assert "The live files are back" in log_of(job)
    assert _in(box, SUMS) == broken

    monkeypatch.undo()
    job = backup_services.start_files_restore(crew.actor(crew.owner), box, backup, "filebox")
    assert run_job(job.pk, files.restore_files) == "succeeded", log_of(job)
    assert _in(box, SUMS) == wanted
    volumes = asyncio.run(ssh.run(target_for(box.server), ["docker", "volume", "ls", "-q"]))
    assert "panel-kept-" not in volumes.stdout
