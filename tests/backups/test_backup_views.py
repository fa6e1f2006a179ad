"""Backup pages without a server: repositories are added by admins with checked fields and a
password stored encrypted only; backups start as audited jobs for admins; viewers see."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from backups import commands
from backups import services as backup_services
from backups.models import Backup, Repository, ScratchCopy, Upgrade, Verification
from backups.operations.backup import progress_of
from backups.validators import validate_bucket, validate_endpoint, validate_folder
from deployments import accessory_services
from deployments.models import Accessory
from panel.models import AuditEvent, Job
from servers.models import Server
from tests.conftest import Crew, new_server


def _disk(crew: Crew, server: Server) -> Repository:
    return backup_services.create_repository(
        crew.actor(crew.admin), crew.team, name="disk", kind="local", server=server,
        folder="/srv/backups",
    )  # fmt: skip


def _postgres_and_disk(crew: Crew, server: Server) -> tuple[Accessory, Repository]:
    db = accessory_services.create_accessory(
        crew.actor(crew.admin), crew.team, name="db", server=server, kind="postgres"
    )
    return db, _disk(crew, server)


def test_fields_that_reach_a_command_or_url_are_checked() -> None:
    for bad in ("relative", "/a/../b", "/", "/a b", "/a;touch x", "/$(id)"):
        with pytest.raises(ValidationError):
            validate_folder(bad)
    for bad in (
        "ftp://x",
        "https://u:p@x",
        "https://x/path",
        "https://-oProxy=x",
        "https://x:99999",
    ):
        with pytest.raises(ValidationError):
            validate_endpoint(bad)
    validate_endpoint("https://s3.eu-west-1.amazonaws.com")
    for bad in ("A", "x", "a..b", "a;b"):
        with pytest.raises(ValidationError):
            validate_bucket(bad)


def test_restic_gets_its_password_from_a_file_and_a_failed_dump_is_caught() -> None:
    argv = commands.restic("r1", "restic/restic:0.17.3", "/home/u", ["snapshots"])
    assert "/home/u/.panel/restic/r1/password:/run/panel/restic-password:ro" in argv
    assert "--env" in argv and not any("=" in a and "AWS_SECRET" in a for a in argv)
    script = commands.piped(["pg_dumpall"], ["restic", "backup"], "s")[2]
    assert "pg_dumpall; echo $? > s; } | restic backup" in script
    assert f"exit {commands.SOURCE_FAILED}" in script


def test_admins_add_repositories_with_the_password_encrypted_and_viewers_see(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.deployer)
    assert client.post(reverse("repository_new"), {"name": "disk"}).status_code == 403
    client.force_login(crew.admin)
    page = client.post(
        reverse("repository_new"), {"name": "s3", "kind": "s3", "image": "restic/restic:0.17.3"}
    ).content.decode()
    assert "Needed for this kind of repository." in page and not Repository.objects.exists()
    client.post(
        reverse("repository_new"),
        {"name": "offsite", "kind": "s3", "endpoint": "https://s3.example.com",
         "bucket": "backups", "bucket_folder": "panel", "access_key": "AKIA1",
         "secret_key": "s3-secret-canary-77", "image": "restic/restic:0.17.3"},
    )  # fmt: skip
    repository = Repository.objects.get()
    assert repository.location == "s3:https://s3.example.com/backups/panel"
    stored = str(Repository.objects.values_list("secret_key", "password").get())
    assert "s3-secret-canary-77" not in stored and len(repository.password.reveal()) >= 32
    event = AuditEvent.objects.get(action="repository.create")
    assert "s3-secret-canary-77" not in str(event.details)
    client.force_login(crew.viewer)
    page = client.get(reverse("repository_list")).content.decode()
    assert "offsite" in page and "s3-secret-canary-77" not in page


def test_an_sftp_repository_gets_a_key_of_its_own_on_a_trusted_server(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.admin)
    untrusted = new_server(crew, "web-2", "10.0.0.6")
    Server.objects.filter(pk=untrusted.pk).update(host_key="")
    fields = {"kind": "sftp", "folder": "/srv/restic", "image": "restic/restic:0.17.3"}
    page = client.post(
        reverse("repository_new"), {"name": "far", "server": untrusted.pk, **fields}
    ).content.decode()
    assert "Trust this server" in page and not Repository.objects.exists()
    client.post(reverse("repository_new"), {"name": "far", "server": server.pk, **fields})
    repository = Repository.objects.get()
    assert repository.location == "sftp:web-1:/srv/restic"
    assert repository.sftp_public_key.startswith("ssh-ed25519 ")
    assert "OPENSSH PRIVATE KEY" in repository.sftp_key.reveal()
    stored = str(Repository.objects.values_list("sftp_key", flat=True).get())
    assert "OPENSSH" not in stored
    page = client.get(reverse("repository_detail", args=[repository.pk])).content.decode()
    assert "allows SFTP only" in page and "PRIVATE" not in page
    line = commands.authorized_line(repository.sftp_public_key, str(repository.pk))
    assert line.startswith('restrict,command="internal-sftp" ssh-ed25519 ')


def test_backing_up_is_an_audited_job_for_admins(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db, repository = _postgres_and_disk(crew, server)
    url = reverse("accessory_back_up", args=[db.pk])
    client.force_login(crew.deployer)
    assert client.post(url, {"repository": repository.pk}).status_code == 403
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        answer = client.post(url, {"repository": repository.pk})
    job = Job.objects.get()
    assert answer["Location"] == reverse("job_detail", args=[job.pk])
    assert job.kind == "backup.run" and job.params["repository_id"] == str(repository.pk)
    assert AuditEvent.objects.filter(action="job.backup.run").exists()
    client.force_login(crew.outsider)
    assert client.post(url, {"repository": repository.pk}).status_code == 404


def test_restoring_to_a_scratch_copy_is_for_admins_and_only_of_a_good_backup(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db, repository = _postgres_and_disk(crew, server)
    good = Backup.objects.create(
        team=crew.team, repository=repository, accessory=db, succeeded=True, snapshot_id="ab" * 32
    )
    failed = Backup.objects.create(team=crew.team, repository=repository, accessory=db)
    client.force_login(crew.deployer)
    assert client.post(reverse("accessory_scratch", args=[db.pk, good.pk])).status_code == 403
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("accessory_scratch", args=[db.pk, failed.pk]))
        assert not Job.objects.exists()
        client.post(reverse("accessory_scratch", args=[db.pk, good.pk]))
    job = Job.objects.get()
    assert job.kind == "backup.scratch" and job.params["backup_id"] == good.pk
    page = client.get(reverse("accessory_detail", args=[db.pk])).content.decode()
    assert f'id="scratch-{good.pk}"' in page and f'id="scratch-{failed.pk}"' not in page


def test_only_owners_replace_live_data_and_only_with_its_name_typed(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db, repository = _postgres_and_disk(crew, server)
    backup = Backup.objects.create(
        team=crew.team, repository=repository, accessory=db, succeeded=True, snapshot_id="ab" * 32
    )
    copy = ScratchCopy.objects.create(
        team=crew.team, accessory=db, backup=backup, container="db-scratch", summary="x 1"
    )
    url = reverse("accessory_promote", args=[db.pk, copy.pk])
    client.force_login(crew.admin)
    assert client.post(url, {"confirm": "db"}).status_code == 403
    page = client.get(reverse("accessory_detail", args=[db.pk])).content.decode()
    assert 'id="scratch"' in page and 'id="promote"' not in page
    client.force_login(crew.owner)
    assert 'id="promote"' in client.get(reverse("accessory_detail", args=[db.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        for typed in ("", "DB", "d b", "db2"):
            client.post(url, {"confirm": typed})
        assert not Job.objects.exists()
        answer = client.post(url, {"confirm": "db"})
    job = Job.objects.get()
    assert answer["Location"] == reverse("job_detail", args=[job.pk])
    assert job.kind == "backup.promote" and job.params["copy_id"] == copy.pk
    assert AuditEvent.objects.filter(action="job.backup.promote").exists()


def test_verifying_and_checking_are_admin_jobs_and_the_pages_say_when_last_proven(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db, repository = _postgres_and_disk(crew, server)
    client.force_login(crew.deployer)
    assert client.post(reverse("accessory_verify", args=[db.pk])).status_code == 403
    assert client.post(reverse("repository_check", args=[repository.pk])).status_code == 403
    assert "never" in client.get(reverse("dashboard")).content.decode()
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("accessory_verify", args=[db.pk]))
        client.post(reverse("repository_check", args=[repository.pk]))
    assert sorted(Job.objects.values_list("kind", flat=True)) == ["backup.check", "backup.verify"]
    check = Job.objects.get(kind="backup.check")
    assert check.params["server_id"] == str(server.pk)
    Verification.objects.create(team=crew.team, accessory=db, passed=True, detail="restored")
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "last verified restore" in dashboard and "latest verification failed" not in dashboard
    Verification.objects.create(team=crew.team, accessory=db, passed=False, detail="pack damaged")
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "db: the latest verification failed" in dashboard
    page = client.get(reverse("accessory_detail", args=[db.pk])).content.decode()
    assert "Last verified restore" in page and "pack damaged" in page


def test_upgrades_start_after_a_backup_for_admins_and_only_owners_revert_or_drop_kept_data(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db, repository = _postgres_and_disk(crew, server)
    url = reverse("accessory_upgrade", args=[db.pk])
    client.force_login(crew.deployer)
    assert client.post(url, {"image": "postgres:17.2"}).status_code == 403
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        for refused in ({"image": "postgres:17.2"}, {"image": "postgres:17.2;rm -rf /"},
                        {"image": db.image, "repository": repository.pk}):  # fmt: skip
            client.post(url, refused)
        assert not Job.objects.exists()
        client.post(url, {"image": "postgres:17.2", "repository": repository.pk})
    job = Job.objects.get()
    assert job.kind == "accessory.upgrade" and job.params["image"] == "postgres:17.2"
    assert job.params["repository_id"] == str(repository.pk)

    done = Upgrade.objects.create(
        team=crew.team, accessory=db, from_image="postgres:15", to_image="postgres:17",
        status="upgraded", kept_volume="panel-accessory-db-data-pg15",
    )  # fmt: skip
    page = client.get(reverse("accessory_detail", args=[db.pk])).content.decode()
    assert "panel-accessory-db-data-pg15" in page and f'id="revert-{done.pk}"' not in page
    assert client.post(reverse("upgrade_revert", args=[db.pk, done.pk])).status_code == 403
    assert client.post(reverse("kept_remove", args=[db.pk, done.pk])).status_code == 403
    client.force_login(crew.owner)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("upgrade_revert", args=[db.pk, done.pk]))
        client.post(reverse("kept_remove", args=[db.pk, done.pk]))
    kinds = set(Job.objects.values_list("kind", flat=True))
    assert {"accessory.upgrade_revert", "accessory.kept_remove"} <= kinds


def test_files_pages_are_for_files_snapshots_and_restoring_them_live_for_owners(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    box = accessory_services.create_accessory(
        crew.actor(crew.admin), crew.team, name="box", server=server, kind="custom",
        image="registry.example.com/box:1", port=8080, volumes=["boxdata:/srv"],
    )  # fmt: skip
    repository = _disk(crew, server)
    dump = Backup.objects.create(
        team=crew.team, repository=repository, accessory=box, succeeded=True, snapshot_id="d" * 64
    )
    files = Backup.objects.create(
        team=crew.team, repository=repository, accessory=box, succeeded=True,
        snapshot_id="f" * 64, rows="/data 3",
    )  # fmt: skip
    client.force_login(crew.admin)
    assert client.get(reverse("backup_files", args=[box.pk, dump.pk])).status_code == 404
    page = client.get(reverse("accessory_detail", args=[box.pk])).content.decode()
    assert f'id="files-{files.pk}"' in page and "its volumes' files" in page
    url = reverse("accessory_files_restore", args=[box.pk, files.pk])
    assert client.post(url, {"confirm": "box"}).status_code == 403
    client.force_login(crew.owner)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url, {"confirm": "bo"})
        client.post(reverse("accessory_files_restore", args=[box.pk, dump.pk]), {"confirm": "box"})
        assert not Job.objects.exists()
        client.post(url, {"confirm": "box"})
    assert Job.objects.get().kind == "backup.files_restore"


def test_a_repository_page_lists_its_snapshots_and_admins_list_them_again(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    repository = _disk(crew, server)
    Repository.objects.filter(pk=repository.pk).update(snapshots=[
        {"short_id": "4f2a9c1e", "time": "2026-11-20T03:00:01Z", "hostname": "web1",
         "tags": ["made-by-hand"], "paths": ["/etc"]},
    ])  # fmt: skip
    url = reverse("repository_detail", args=[repository.pk])
    client.force_login(crew.viewer)
    page = client.get(url).content.decode()
    assert "4f2a9c1e" in page and "made-by-hand" in page and 'id="refresh-button"' not in page
    assert client.post(reverse("repository_refresh", args=[repository.pk])).status_code == 403
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("repository_refresh", args=[repository.pk]))
    job = Job.objects.get()
    assert job.kind == "backup.list" and job.params["server_id"] == str(server.pk)
    client.force_login(crew.outsider)
    assert client.get(url).status_code == 404


def test_restic_status_lines_are_said_in_words() -> None:
    line = '{"message_type":"status","seconds_elapsed":12,"bytes_done":52000000}'
    assert progress_of(line) == "… 52.0 MB read, 12s"
    with_total = '{"message_type":"status","bytes_done":50000000,"total_bytes":200000000}'
    assert progress_of(with_total) == "… 50.0 MB read of 200.0 MB (25 %), 0s"
