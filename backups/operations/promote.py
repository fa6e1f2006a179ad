"""A scratch copy's data made the live data, in a way that cannot make things worse: a safety
backup of the live data first (nothing changes when it fails), the live files kept aside in a
volume of their own while the copy's replace them, and put back with the old container whenever
a step after that fails, the promoted accessory not ready, or its rows not the copy's."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from backups import commands, state
from backups.models import ScratchCopy
from backups.operations.backup import snapshot
from backups.operations.restore import SCRATCH, copy_name, remove_copy, restic_for
from backups.operations.verify import compared
from deployments.accessory_plans import DONE, START, plan_boot
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.operations.accessories import (
    clean_up,
    contents_of,
    kind_of,
    locked,
    secrets_of,
    spec_of,
)
from panel.audit import Actor
from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh
from servers.execute import StepRunner
from servers.targets import target_for

COPY_TIMEOUT = 6 * 3600.0


def promote(ctx: JobContext) -> None:
    accessory = locked(ctx)
    copy = ScratchCopy.objects.select_related("backup__repository").get(
        pk=ctx.job.params["copy_id"], accessory=accessory
    )
    actor = Actor.of_job(ctx.job)
    restic = restic_for(ctx, copy.backup)
    restic.open_or_create(ctx)
    ctx.log(f"A safety backup of the live {accessory.name} first, into {restic.repository.name}")
    try:
        safety = snapshot(ctx, restic, accessory)
    except JobFailed as failure:
        raise JobFailed(f"{failure} The live data is not replaced; nothing changed.") from failure
    ctx.log(f"Safety backup: snapshot {safety.snapshot_id[:8]}; now the copy's data goes live.")
    live = accessories.volume(accessory.name)
    scratch = copy_name(accessory)
    switch = Switch(scratch, accessories.volume(scratch), accessory.image, copy.own_name,
                    copy.summary, kept=f"{live}-before")  # fmt: skip
    try:
        switch_data(ctx, accessory, switch)
    except BaseException as error:
        state.live_restore_failed(
            actor, accessory, copy.backup, safety, str(error), what="database"
        )
        raise
    remove_copy(ctx, accessory, SCRATCH)
    state.live_restored(actor, accessory, copy.backup, safety, what="database")
    ctx.log(
        f"{accessory.name} now serves snapshot {copy.backup.snapshot_id[:8]}; what it held "
        f"before is snapshot {safety.snapshot_id[:8]} in {restic.repository.name}."
    )


@dataclass(frozen=True)
class Switch:
    """A copy's data made the live data: the copy (its container's name, or "" for a volume
    alone), its volume, the image the accessory runs afterwards, the copy's own name ({copy}),
    the rows it must hold ("": not compared), and the volume keeping the live files meanwhile
    (and after, as a way back, when `keep`)."""

    source: str
    volume: str
    image: str
    own_name: str
    rows: str
    kept: str
    keep: bool = False


def switch_data(ctx: JobContext, accessory: Accessory, switch: Switch) -> None:
    kind, (values, _) = kind_of(accessory), secrets_of(accessory)
    target = target_for(accessory.server)
    live, source, kept = accessories.volume(accessory.name), switch.volume, switch.kept

    def run(argv: list[str], what: str, timeout: float = 600) -> None:
        done = asyncio.run(ssh.run(target, argv, check=False, timeout=timeout, log=ctx.log))
        if not done.ok:
            raise JobFailed(f"{what} failed: {done.stderr.strip()[-300:] or done.exit_status}")

    if switch.source:
        run(accessories.stop(switch.source), f"Stopping {switch.source}")
    run(accessories.set_aside(accessory.name), f"Stopping {accessory.name}")
    try:
        run(commands.copy_volume(switch.image, live, kept), f"Keeping {live} aside", COPY_TIMEOUT)
    except BaseException:
        asyncio.run(ssh.run(target, accessories.bring_back(accessory.name), check=False))
        raise
    spec = replace(spec_of(accessory, asyncio.run(ssh.home_dir(target))), image=switch.image)
    runner = StepRunner(
        {accessory.server.pk: target},
        ctx.log,
        contents=contents_of(accessory),
        check_cancelled=ctx.check_cancelled,
    )
    phases = plan_boot(spec).phases
    try:
        run(commands.copy_volume(switch.image, source, live), f"Copying {switch.source}'s data",
            COPY_TIMEOUT)  # fmt: skip
        for phase in phases:
            if phase.title != DONE:
                asyncio.run(runner.phase(phase))
        names = sorted(values)
        if kind.promoted and switch.own_name:
            statements = kind.promoted.replace("{copy}", switch.own_name).encode()
            told = accessories.ask(accessory.name, names, list(kind.client), stdin=True)
            asyncio.run(ssh.run(target, told, stdin=statements, log=ctx.log))
        counted = asyncio.run(
            ssh.run(target, accessories.ask(accessory.name, names, list(kind.count_rows)))
        )
        differences = compared(switch.rows, counted.stdout.strip())
        if differences:
            raise JobFailed(f"{accessory.name} holds other rows than the copy: {differences}")
    except BaseException:
        start = next(phase for phase in phases if phase.title == START)

        def put_back() -> None:
            try:
                run(commands.copy_volume(switch.image, kept, live), "Putting it back",
                    COPY_TIMEOUT)  # fmt: skip
            except JobFailed as failure:
                raise JobFailed(
                    f"{failure}: the live data is kept in the volume {kept} on "
                    f"{accessory.server.name}, and in the safety backup."
                ) from failure
            ctx.log(f"The live data is back in {live}, as it was.")

        clean_up(ctx, runner, start, target, accessory.name, put_back)
        run(["docker", "volume", "rm", "--force", kept], "Removing the kept files")
        raise
    # The switch is made: what is left to tidy cannot undo it, and says so if it fails.
    leftovers = [] if switch.keep else [["docker", "volume", "rm", "--force", kept]]
    for argv in [*leftovers, ["docker", "rm", "--force", accessories.previous(accessory.name)]]:
        done = asyncio.run(ssh.run(target, argv, check=False, log=ctx.log))
        if not done.ok:
            ctx.log(f"{accessory.name} serves the new data, but `{' '.join(argv)}` failed: "
                    "remove it by hand.", LogKind.ERROR)  # fmt: skip
