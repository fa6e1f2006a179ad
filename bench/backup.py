"""A lab PostgreSQL with about 200 MB of rows, backed up and restored by the panel's jobs and by
bare scripts on the same host over one ssh connection, alternating.

- Backup: the panel's job (settings written, rows counted as the dump starts and after it, the
  dump streamed into restic) vs `docker exec pg_dumpall | docker run -i restic backup --stdin`,
  each into its own repository, made (and filled) by a first backup that is not counted: the
  daily backup of a schedule.
- Re-backup: the panel's second backup of the unchanged database, its bytes added as a share of
  the first's.
- Restore: the panel's restore to a scratch copy (a new container, the dump streamed from restic
  into psql, every table counted) vs a bare script that starts the container, waits until it is
  ready and pipes `restic dump` into psql.

Ends with `backup ratio: X`, `re-backup added: P %` and `restore ratio: Y` (ratios of medians)."""

from __future__ import annotations

import asyncio
import shlex
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.deploy_overhead import known_hosts_file
from bench.panel_env import Fixture, lab_fixture, setup_django

RUNS = 3
FOLDER = "/tmp/bench-restic"
BARE_PASSWORD = "bench-bare-restic-password"  # noqa: S105 (a throwaway repository's)
BARE_BACKUP = r"""
set -euo pipefail
folder=$1; restic=$2; db=$3
restic_in() { docker run --rm -i -e RESTIC_PASSWORD -v "$folder:/repository" \
  --entrypoint restic "$restic" -r /repository "$@"; }
if [ "$4" = init ]; then restic_in init >/dev/null; fi
docker exec "$db" pg_dumpall -U postgres --clean --if-exists \
  | restic_in backup --quiet --stdin --stdin-filename postgres.sql
"""
BARE_RESTORE = r"""
set -euo pipefail
folder=$1; restic=$2; image=$3
docker rm -f bare-scratch >/dev/null 2>&1 || true
docker volume rm -f bare-scratch-data >/dev/null
docker run -d --name bare-scratch -e POSTGRES_PASSWORD=bench -e POSTGRES_USER=bare_restore \
  -e POSTGRES_DB=bare_restore -v bare-scratch-data:/var/lib/postgresql/data "$image" >/dev/null
until docker exec bare-scratch pg_isready --quiet --host 127.0.0.1 -U bare_restore; do
  sleep 0.5
done
docker run --rm -e RESTIC_PASSWORD -v "$folder:/repository" --entrypoint restic "$restic" \
  -r /repository dump latest /postgres.sql \
  | docker exec -i bare-scratch psql --quiet -v ON_ERROR_STOP=1 -U bare_restore -d bare_restore
"""


class Bare:
    """The bare scripts, run over one ssh connection each as a user would."""

    def __init__(self, fixture: Fixture, known_hosts: Path) -> None:
        host = fixture.lab.hosts[0]
        self.ssh = ["ssh", "-i", str(host.client_key), "-o", f"UserKnownHostsFile={known_hosts}",
                    "-o", "BatchMode=yes", f"{host.user}@{host.address}"]  # fmt: skip

    def run(self, script: str, *args: str) -> float:
        started = time.perf_counter()
        subprocess.run(
            [
                *self.ssh,
                f"RESTIC_PASSWORD={BARE_PASSWORD} " + shlex.join(["bash", "-s", "--", *args]),
            ],
            input=script.encode(),
            check=True,
        )
        return time.perf_counter() - started


def _root_rm(fixture: Fixture, restic: str, folder: str) -> None:
    from servers import ssh
    from servers.targets import target_for

    argv = ["docker", "run", "--rm", "--volume", "/tmp:/t", "--entrypoint", "rm", restic, "-rf",
            f"/t/{folder.rsplit('/', 1)[1]}"]  # fmt: skip
    asyncio.run(ssh.run(target_for(fixture.servers[0]), argv))


def _job(kind: Any, operation: Any, start: Any) -> tuple[Any, float]:
    from panel.jobs.runner import run_job

    job = start()
    if run_job(job.pk, operation) != "succeeded":
        job.refresh_from_db()
        raise SystemExit(f"{kind} failed: {job.error}")
    job.refresh_from_db()
    return job, job.duration_seconds or 0.0


def main() -> None:
    setup_django()
    from backups import services as backup_services
    from backups.models import Backup
    from backups.operations.backup import back_up
    from backups.operations.restore import remove_scratch, restore_to_scratch
    from deployments import accessory_services
    from deployments.commands import accessories
    from deployments.operations import accessories as operations
    from panel.audit import Actor
    from servers import ssh
    from servers.targets import target_for
    from tests.lab.images import load_into, service_image

    fixture = lab_fixture()
    server, actor = fixture.servers[0], Actor.system()
    image, restic = service_image("postgres"), service_image("restic")
    for name in (image, restic):
        load_into(fixture.lab.hosts[0].spec, name)
    target = target_for(server)
    for argv in (accessories.remove("benchdb"),
                 ["docker", "volume", "rm", "-f", accessories.volume("benchdb")]):  # fmt: skip
        asyncio.run(ssh.run(target, argv, check=False))
    db = accessory_services.create_accessory(
        actor, fixture.team, name="benchdb", server=server, kind="postgres", image=image
    )
    _job("boot", operations.boot, lambda: accessory_services.start_accessory_job(actor, db, "boot"))
    # Two million rows of about 100 bytes of dump each.
    fill = ("CREATE TABLE t (id bigint, payload text); INSERT INTO t SELECT i, "
            "repeat(md5(i::text), 3) FROM generate_series(1, 2000000) i;")  # fmt: skip
    names = sorted(operations.secrets_of(db)[0])
    asyncio.run(ssh.run(target, accessories.ask("benchdb", names, ["psql", "-U", "postgres",
                "-qc", fill]), timeout=900))  # fmt: skip

    backup_times: dict[str, list[float]] = {"panel": [], "bare": []}
    restore_times: dict[str, list[float]] = {"panel": [], "bare": []}
    with tempfile.TemporaryDirectory() as scratch:
        bare = Bare(fixture, known_hosts_file(fixture, Path(scratch)))
        folder, bare_folder = f"{FOLDER}-panel", f"{FOLDER}-bare"
        container = accessories.container("benchdb")
        for made in (folder, bare_folder):
            _root_rm(fixture, restic, made)
        repository = backup_services.create_repository(
            actor, fixture.team, name="bench", kind="local", server=server, folder=folder,
            image=restic,
        )  # fmt: skip
        start = lambda: backup_services.start_backup(actor, db, repository)  # noqa: E731
        job, first_panel = _job("backup", back_up, start)
        first = Backup.objects.get(job=job)
        first_bare = bare.run(BARE_BACKUP, bare_folder, restic, container, "init")
        print(f"first backups (the repository made): panel {first_panel:.1f} s, "
              f"bare {first_bare:.1f} s")  # fmt: skip
        later_backups = []
        for _ in range(RUNS):
            job, seconds = _job("backup", back_up, start)
            backup_times["panel"].append(seconds)
            later_backups.append(Backup.objects.get(job=job))
            backup_times["bare"].append(bare.run(BARE_BACKUP, bare_folder, restic, container, ""))
        for _ in range(RUNS):
            _, seconds = _job(
                "restore", restore_to_scratch,
                lambda: backup_services.start_scratch_restore(actor, db, first),
            )  # fmt: skip
            restore_times["panel"].append(seconds)
            restore_times["bare"].append(bare.run(BARE_RESTORE, bare_folder, restic, image))
    _job("removal", remove_scratch, lambda: backup_services.start_scratch_removal(actor, db))
    clean_up = ("docker rm -f bare-scratch panel-accessory-benchdb; docker volume rm -f "
                "bare-scratch-data panel-accessory-benchdb-data")  # fmt: skip
    asyncio.run(ssh.run(target, ["sh", "-c", clean_up], check=False))
    for made in (folder, bare_folder):
        _root_rm(fixture, restic, made)
    print(f"dump: {first.bytes_read / 1e6:.0f} MB read, {first.bytes_added / 1e6:.0f} MB added")
    for label, times in (("backup", backup_times), ("restore", restore_times)):
        for side in ("panel", "bare"):
            print(f"{label} {side} runs: {', '.join(f'{t:.1f}' for t in times[side])} s")
    second = later_backups[0]
    added = 100 * second.bytes_added / first.bytes_added
    print(f"second backup: {second.bytes_added / 1e6:.2f} MB added")
    ratio = statistics.median(backup_times["panel"]) / statistics.median(backup_times["bare"])
    print(f"backup ratio: {ratio:.2f}")
    print(f"re-backup added: {added:.1f} %")
    ratio = statistics.median(restore_times["panel"]) / statistics.median(restore_times["bare"])
    print(f"restore ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
