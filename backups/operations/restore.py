"""Restoring a backup into a copy: a new container of the accessory's image, on a new volume,
beside the live one (which nothing here touches). The snapshot is streamed from restic into the
engine's client, where any error fails the restore; the copy is then counted, table by table, so
a person (or a verification) sees what the backup holds before trusting it."""

from __future__ import annotations

import asyncio

from backups import commands, state
from backups.models import Backup
from backups.operations.backup import Restic
from deployments.accessory_kinds import KINDS, Kind
from deployments.accessory_plans import CONFIG_CONTENT, ENV_CONTENT, AccessorySpec, plan_boot
from deployments.commands import accessories, containers
from deployments.models import Accessory
from deployments.operations.accessories import secrets_of
from deployments.spec import host_of
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers import ssh
from servers.execute import StepRunner
from servers.targets import target_for

RESTORE_TIMEOUT = 6 * 3600.0
SCRATCH, THROWAWAY, UPGRADE = "scratch", "verify", "upgrade"  # what a copy's name ends with


def copy_name(accessory: Accessory, purpose: str = SCRATCH) -> str:
    return f"{accessory.name}-{purpose}"


def restore_to_scratch(ctx: JobContext) -> None:
    accessory = Accessory.objects.select_related("team", "server__ssh_key").get(
        pk=ctx.job.target_id
    )
    backup = Backup.objects.select_related("repository").get(
        pk=ctx.job.params["backup_id"], accessory=accessory, succeeded=True
    )
    restic = restic_for(ctx, backup)
    name, own_name = copy_name(accessory), f"panel_restore_{ctx.job.pk}"
    summary = restore_copy(ctx, restic, accessory, backup, SCRATCH, own_name)
    state.scratch_made(Actor.of_job(ctx.job), accessory, backup, ctx.job, name, own_name, summary)
    ctx.log(f"{name} holds snapshot {backup.snapshot_id[:8]}, restored without an error:")
    for line in summary.splitlines():
        ctx.log(f"  {line}")


def restic_for(ctx: JobContext, backup: Backup) -> Restic:
    """restic for the backup's repository, locked for this job, its secrets kept from the log."""
    accessory = backup.accessory
    assert accessory is not None
    if locks.acquire(backup.repository.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{backup.repository.name} is busy with another job; nothing changed.")
    restic = Restic(backup.repository, accessory.server)
    for secret in (*restic.secrets, secrets_of(accessory)[1]):
        if secret:
            ctx.add_secret(secret)
    restic.prepare(ctx)
    return restic


def restore_copy(
    ctx: JobContext, restic: Restic, accessory: Accessory, backup: Backup, purpose: str,
    own_name: str, image: str = "",
) -> str:  # fmt: skip
    """The backup restored into a copy (an earlier one of the purpose replaced) of the
    accessory's image or of `image`, counted; a copy that fails is removed. Returns its rows
    per table."""
    kind = KINDS.get(accessory.kind, KINDS["custom"])
    if not kind.restores:
        raise JobFailed(f"A copy of {kind.label} is not something the panel makes yet.")
    name, password = copy_name(accessory, purpose), secrets_of(accessory)[1]
    remove_copy(ctx, accessory, purpose)
    variables = kind.scratch_env or kind.env
    values = {
        key: value.replace("{password}", password).replace("{copy}", own_name)
        for key, value in variables
    }
    spec = AccessorySpec(
        name=name,
        host=host_of(accessory.server),
        home=restic.home,
        image=image or accessory.image,
        env_names=tuple(sorted(values)),
        volumes=(f"{accessories.volume(name)}:{kind.data_path}",),
        publish=(),
        command=kind.command,
        ready=kind.scratch_ready or kind.ready,
        ready_timeout=float(accessory.ready_timeout),
        owner=f"{accessory.pk}-{purpose}",
        config_path=kind.config_path if kind.scratch_config else "",
    )
    config = kind.scratch_config.replace("{password}", password).encode()
    runner = StepRunner(
        {accessory.server.pk: restic.target},
        ctx.log,
        contents={ENV_CONTENT: containers.env_file(values), CONFIG_CONTENT: config},
        check_cancelled=ctx.check_cancelled,
    )
    try:
        volume, *phases = plan_boot(spec).phases  # its data volume made first
        asyncio.run(runner.phase(volume))
        if kind.loads_dump_at_start:
            _dump_into_volume(ctx, restic, backup, kind, name)
        for phase in phases:
            asyncio.run(runner.phase(phase))
        return _restore(ctx, restic, backup, kind, name, list(spec.env_names))
    except BaseException:
        remove_copy(ctx, accessory, purpose)
        raise


def _dump_into_volume(
    ctx: JobContext, restic: Restic, backup: Backup, kind: Kind, name: str
) -> None:
    """The snapshot's dump file written into the copy's data volume, where the engine loads
    it as it starts."""
    ctx.log(f"Writing snapshot {backup.snapshot_id[:8]}'s {kind.dump_name} into {name}'s data")
    script = f'restic dump "$0" "/$1" > "{commands.RESTORED_INSIDE}/$1"'
    into = f"{accessories.volume(name)}:{commands.RESTORED_INSIDE}"
    argv = restic.argv(["-c", script, backup.snapshot_id, kind.dump_name], entrypoint="sh",
                       mounts=(into,))  # fmt: skip
    _ran(restic, argv, name)


def _ran(restic: Restic, argv: list[str], name: str) -> None:
    done = asyncio.run(ssh.run(restic.target, argv, check=False, timeout=RESTORE_TIMEOUT))
    if not done.ok:
        words = " / ".join(done.stderr.strip().splitlines()[-3:]) or f"exit {done.exit_status}"
        raise JobFailed(f"The restore into {name} failed: {words}. The copy is removed.")


def _restore(
    ctx: JobContext, restic: Restic, backup: Backup, kind: Kind, name: str, env_names: list[str]
) -> str:
    """The dump streamed into the copy's engine (or, loaded as it started, finished), then its
    rows counted."""
    if kind.restore:
        source = restic.argv(["dump", backup.snapshot_id, f"/{kind.dump_name}"])
        sink = accessories.ask(name, env_names, list(kind.restore), stdin=True)
        status = f"{commands.folder(str(backup.repository.pk))}/restore-{ctx.job.pk}.status"
        ctx.log(f"Streaming snapshot {backup.snapshot_id[:8]} from restic into {name}")
        _ran(restic, commands.piped(source, sink, status), name)
    if kind.after_restore:
        _ran(restic, accessories.ask(name, env_names, list(kind.after_restore)), name)
    counted = asyncio.run(
        ssh.run(restic.target, accessories.ask(name, env_names, list(kind.count_rows)),
                check=False)
    )  # fmt: skip
    if not counted.ok:
        raise JobFailed(f"{name} is restored but does not answer: {counted.stderr.strip()[-300:]}")
    return counted.stdout.strip() or "(no tables)"


def remove_copy(ctx: JobContext, accessory: Accessory, purpose: str = SCRATCH) -> None:
    """An earlier copy's container, volume and files go (the live ones are never named so)."""
    name, target = copy_name(accessory, purpose), target_for(accessory.server)
    for argv in (
        accessories.remove(name),
        ["docker", "volume", "rm", "--force", accessories.volume(name)],
    ):
        asyncio.run(ssh.run(target, argv, check=False, log=ctx.log))


def remove_scratch(ctx: JobContext) -> None:
    accessory = Accessory.objects.select_related("team", "server__ssh_key").get(
        pk=ctx.job.target_id
    )
    remove_copy(ctx, accessory)
    state.scratch_removed(Actor.of_job(ctx.job), accessory)
    ctx.log(f"The scratch copy of {accessory.name} is removed; the live one was not touched.")
