"""An accessory's volumes restored from a files snapshot into the live ones, in a way that cannot
make things worse: a safety backup first (nothing changes when it fails), the live files kept in
volumes of their own while the snapshot's replace them, and put back with the old container when
any step after fails. And a snapshot's files listed, or one of them read, for a download."""

from __future__ import annotations

import asyncio
import json
import shlex
from typing import Any

from backups import commands, state
from backups.models import Backup
from backups.operations.backup import Restic, snapshot, words_of
from backups.operations.restore import restic_for
from deployments.accessory_plans import DONE, START, plan_boot
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.operations.accessories import clean_up, contents_of, locked, spec_of
from panel.audit import Actor
from panel.jobs.runner import JobContext, JobFailed
from servers import ssh
from servers.execute import StepRunner
from servers.targets import target_for

RESTORE_TIMEOUT = 6 * 3600.0
DOWNLOAD_LIMIT = 64 * 1024 * 1024  # a file read whole for a download; larger: restore
# Each mounted volume emptied, then the snapshot restored over them ($0: the snapshot).
WIPE_AND_RESTORE = (
    'for d in "$@"; do find "$d" -mindepth 1 -delete || exit 1; done; '
    'exec restic restore "$0" --target / --verify'
)


def restore_files(ctx: JobContext) -> None:
    accessory = locked(ctx)
    backup = Backup.objects.select_related("repository").get(
        pk=ctx.job.params["backup_id"], accessory=accessory, succeeded=True
    )
    restic = restic_for(ctx, backup)
    restic.open_or_create(ctx)
    try:
        safety = snapshot(ctx, restic, accessory)
    except JobFailed as failure:
        raise JobFailed(f"{failure} The live files are not replaced; nothing changed.") from failure
    ctx.log(f"Safety backup: snapshot {safety.snapshot_id[:8]}; now the files of "
            f"{backup.snapshot_id[:8]} replace the live ones.")  # fmt: skip
    try:
        _replace_files(ctx, accessory, restic, backup)
    except BaseException as error:
        state.live_restore_failed(
            Actor.of_job(ctx.job), accessory, backup, safety, str(error), what="volumes"
        )
        raise
    state.live_restored(Actor.of_job(ctx.job), accessory, backup, safety, what="volumes")
    ctx.log(f"{accessory.name} runs on the files of snapshot {backup.snapshot_id[:8]}; what it "
            f"had before is snapshot {safety.snapshot_id[:8]}.")  # fmt: skip


def _replace_files(ctx: JobContext, accessory: Accessory, restic: Restic, backup: Backup) -> None:
    target, image = target_for(accessory.server), restic.repository.image
    volumes = list(accessory.volumes)
    kept = [f"panel-kept-{accessory.pk.hex[:12]}-{index}" for index in range(len(volumes))]
    sources = [volume.split(":")[0] for volume in volumes]

    def run(argv: list[str], what: str, timeout: float = 600) -> None:
        done = asyncio.run(ssh.run(target, argv, check=False, timeout=timeout, log=ctx.log))
        if not done.ok:
            raise JobFailed(f"{what} failed: {words_of(done.stderr) or done.exit_status}")

    def drop_kept() -> None:
        run(["docker", "volume", "rm", "--force", *kept], "Removing the kept files")

    run(accessories.set_aside(accessory.name), f"Stopping {accessory.name}")
    try:
        for source, aside in zip(sources, kept, strict=True):
            run(commands.copy_volume(image, source, aside), f"Keeping {source} aside",
                RESTORE_TIMEOUT)  # fmt: skip
    except BaseException:
        asyncio.run(ssh.run(target, accessories.bring_back(accessory.name), check=False))
        drop_kept()
        raise
    spec = spec_of(accessory, restic.home)
    runner = StepRunner({accessory.server.pk: target}, ctx.log, contents=contents_of(accessory),
                        check_cancelled=ctx.check_cancelled)  # fmt: skip
    phases = plan_boot(spec).phases
    try:
        mounts = commands.files_mounts(volumes, "rw")
        inside = [mount.split(":")[1] for mount in mounts]
        argv = restic.argv(["-c", WIPE_AND_RESTORE, backup.snapshot_id, *inside],
                           mounts=mounts, entrypoint="sh")  # fmt: skip
        run(argv, f"Restoring snapshot {backup.snapshot_id[:8]}", RESTORE_TIMEOUT)
        for phase in phases:
            if phase.title != DONE:
                asyncio.run(runner.phase(phase))
    except BaseException:
        start = next(phase for phase in phases if phase.title == START)

        def put_back() -> None:
            for source, aside in zip(sources, kept, strict=True):
                try:
                    run(commands.copy_volume(image, aside, source), "Putting it back",
                        RESTORE_TIMEOUT)  # fmt: skip
                except JobFailed as failure:
                    where = f"the volume {aside} on {accessory.server.name}"
                    raise JobFailed(
                        f"{failure}: the live files are kept in {where}, and in the safety backup."
                    ) from failure
            ctx.log("The live files are back, as they were.")

        clean_up(ctx, runner, start, target, accessory.name, put_back)
        drop_kept()
        raise
    drop_kept()
    run(["docker", "rm", "--force", accessories.previous(accessory.name)], "Removing the old one")


def listed(backup: Backup) -> list[dict[str, Any]]:
    """The files and folders of a files snapshot: path, type, size, time."""
    restic = _reader(backup)
    done = restic.run(["ls", "--json", backup.snapshot_id])
    if not done.ok:
        raise JobFailed(f"restic could not list {backup.snapshot_id[:8]}: {words_of(done.stderr)}")
    entries = []
    for line in done.stdout.splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        if entry.get("struct_type") == "node":
            entries.append(entry)
    return entries


def read(backup: Backup, path: str) -> bytes:
    """One file of a files snapshot, whole (up to DOWNLOAD_LIMIT bytes)."""
    found = next((entry for entry in listed(backup) if entry.get("path") == path), None)
    if found is None or found.get("type") != "file":
        raise JobFailed(f"{path} is not a file of snapshot {backup.snapshot_id[:8]}.")
    if int(found.get("size", 0)) > DOWNLOAD_LIMIT:
        raise JobFailed(f"{path} is larger than {DOWNLOAD_LIMIT // 2**20} MiB: restore it.")
    restic = _reader(backup)
    argv = restic.argv(["dump", backup.snapshot_id, path])
    done = asyncio.run(ssh.run(restic.target, argv, check=False, keep_bytes=True, timeout=600))
    if not done.ok:
        raise JobFailed(f"restic could not read {shlex.quote(path)}: {words_of(done.stderr)}")
    return done.raw_stdout


def _reader(backup: Backup) -> Restic:
    """restic for the backup's repository on the server it was made on, whose settings the
    backup wrote there."""
    if backup.accessory is None:
        raise JobFailed("That backup's accessory is gone: restore from its repository by hand.")
    return Restic(backup.repository, backup.accessory.server)
