"""An SFTP repository on another lab host, reached with the repository's own key, which that
host allows SFTP only: rows backed up there come back identical after a table is dropped; the
host's sshd down is a failed run in restic's words, never a success."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from backups import services as backup_services
from backups.models import Backup, Repository, ScratchCopy
from backups.operations.promote import promote
from backups.operations.restore import restore_to_scratch
from deployments.models import Accessory
from panel.jobs.runner import run_job
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.backups.lab_backups import back_up_now, sql
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab import hosts as lab_hosts
from tests.lab.images import service_image
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]
SFTP_FOLDER = "/tmp/panel-test-restic-sftp"  # on the second lab host, its user's files
CHECKSUM = "SELECT md5(string_agg(n::text, ',' ORDER BY n)) FROM rows"


def _forget(server: Server) -> None:
    """The repository's folder and every repository key line, gone from the host."""
    script = 'rm -rf -- "$0"; sed -i "/ panel-restic-/d" ~/.ssh/authorized_keys'
    asyncio.run(ssh.run(target_for(server), ["sh", "-c", script, SFTP_FOLDER]))


@pytest.fixture
def holder(web_servers: list[Server]) -> Iterator[Server]:
    server = web_servers[1]
    _forget(server)
    yield server
    _forget(server)


def _sftp(crew: Crew, holder: Server) -> Repository:
    return backup_services.create_repository(
        crew.actor(crew.admin), crew.team, name="other", kind="sftp", server=holder,
        folder=SFTP_FOLDER, image=service_image("restic"),
    )  # fmt: skip


def test_rows_backed_up_over_sftp_come_back_identical_and_the_key_opens_no_shell(
    crew: Crew, database: Accessory, holder: Server
) -> None:
    repository = _sftp(crew, holder)
    wanted = sql(database, CHECKSUM)
    outcome, log = back_up_now(crew, database, repository)
    assert outcome == "succeeded", log
    assert "a new repository is made" in log and 'restrict,command="internal-sftp"' in log
    assert repository.sftp_key.reveal() not in log and repository.password.reveal() not in log
    listed = asyncio.run(ssh.run(target_for(holder), ["ls", "--", SFTP_FOLDER])).stdout.split()
    assert {"config", "data", "keys", "snapshots"} <= set(listed)

    sql(database, "DROP TABLE rows")
    backup = Backup.objects.get(repository=repository, succeeded=True)
    scratch = backup_services.start_scratch_restore(crew.actor(crew.admin), database, backup)
    assert run_job(scratch.pk, restore_to_scratch) == "succeeded", log_of(scratch)
    copy = ScratchCopy.objects.get(accessory=database)
    job = backup_services.start_promotion(crew.actor(crew.owner), database, copy, database.name)
    assert run_job(job.pk, promote) == "succeeded", log_of(job)
    assert sql(database, CHECKSUM) == wanted

    # The key the backed-up server holds gets SFTP on the other host, and nothing else.
    with tempfile.TemporaryDirectory() as scratch_dir:
        key = Path(scratch_dir) / "key"
        key.write_text(repository.sftp_key.reveal())
        key.chmod(0o600)
        shell = subprocess.run(
            ["ssh", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-p", str(holder.port), f"{holder.user}@{holder.host}", "echo", "a-shell"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert shell.returncode != 0 and "a-shell" not in shell.stdout


def test_the_sftp_host_down_is_a_failed_run_in_restics_words(
    crew: Crew, database: Accessory, holder: Server, lab: Lab
) -> None:
    repository = _sftp(crew, holder)
    assert back_up_now(crew, database, repository)[0] == "succeeded"
    spec = next(host.spec for host in lab.hosts if host.address == holder.host)
    with lab_hosts.sshd_down(spec):
        outcome, log = back_up_now(crew, database, repository)
    assert outcome == "failed", log
    # A host going down is refused, or closed mid-handshake when the client came while its
    # sshd was stopping; either way in restic's words.
    down = ("Connection refused", "unable to start the sftp session")
    assert any(words in log for words in down) and "Nothing" in log
    failed = Backup.objects.filter(repository=repository).order_by("-created_at").first()
    assert failed is not None and not failed.succeeded
    assert any(words in failed.error for words in down)
