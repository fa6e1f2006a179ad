"""Accessory upgrades that revert. A backup first (when it fails, nothing changes) and the new
image pulled; then either the accessory is recreated on the same volume with the new image,
or, for a PostgreSQL major upgrade (whose data directory format changes), writes are refused,
the backup is restored into a copy of the new image, and the copy's data made the live data,
the old data kept in a volume of its own as the way back. Whatever step fails, the old image
runs again on the old data."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

from backups import state
from backups.models import Repository, Upgrade
from backups.operations.backup import Restic, opened, snapshot
from backups.operations.promote import Switch, switch_data
from backups.operations.restore import UPGRADE, copy_name, remove_copy, restore_copy
from backups.operations.verify import compared
from deployments.accessory_plans import DONE, START, plan_boot
from deployments.commands import accessories, containers
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
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers import ssh
from servers.execute import StepRunner
from servers.targets import target_for

READ_ONLY = b"ALTER SYSTEM SET default_transaction_read_only = on;\nSELECT pg_reload_conf();\n"
READ_WRITE = b"ALTER SYSTEM RESET default_transaction_read_only;\nSELECT pg_reload_conf();\n"
DATA_MAJOR = ["sh", "-c", 'cat "$PGDATA/PG_VERSION"']


def upgrade(ctx: JobContext) -> None:
    accessory = locked(ctx)
    image, old = str(ctx.job.params["image"]), accessory.image
    target, actor = target_for(accessory.server), Actor.of_job(ctx.job)
    restic = _restic(ctx, accessory)
    present = asyncio.run(ssh.run(target, containers.image_id(image), check=False))
    if not present.ok:
        asyncio.run(ssh.run(target, containers.pull(image), timeout=900, log=ctx.log))
    majors = _majors(ctx, accessory, image)
    try:
        if majors and majors[0] != majors[1]:
            kept = _major(ctx, accessory, restic, image, majors)
        else:
            _in_place(ctx, accessory, restic, image)
            kept = ""
    except BaseException as error:
        state.upgrade_failed(actor, accessory, ctx.job, old, image, str(error))
        raise
    state.upgraded(actor, accessory, ctx.job, old, image, kept)
    ctx.log(
        f"{accessory.name} runs {image}."
        + (f" The data from before is kept in {kept} until it is removed." if kept else "")
    )


def revert(ctx: JobContext) -> None:
    """A major upgrade undone: the data kept from before goes live again with the old image."""
    accessory = locked(ctx)
    done = Upgrade.objects.get(pk=ctx.job.params["upgrade_id"], accessory=accessory)
    live = accessories.volume(accessory.name)
    switch = Switch("", done.kept_volume, done.from_image, "", "", kept=f"{live}-reverted")
    switch_data(ctx, accessory, switch)
    _ask(ctx, accessory, READ_WRITE)
    target = target_for(accessory.server)
    asyncio.run(ssh.run(target, ["docker", "volume", "rm", done.kept_volume], log=ctx.log))
    state.upgrade_reverted(Actor.of_job(ctx.job), accessory, ctx.job, done)
    ctx.log(f"{accessory.name} runs {done.from_image} again, on the data it had before.")


def remove_kept(ctx: JobContext) -> None:
    """The data kept from before a major upgrade removed, once the upgrade is trusted."""
    accessory = locked(ctx)
    done = Upgrade.objects.get(pk=ctx.job.params["upgrade_id"], accessory=accessory)
    target = target_for(accessory.server)
    asyncio.run(ssh.run(target, ["docker", "volume", "rm", done.kept_volume], log=ctx.log))
    state.kept_removed(Actor.of_job(ctx.job), accessory, ctx.job, done)
    ctx.log(f"{done.kept_volume} is removed; {accessory.name} stays on {done.to_image}.")


def _restic(ctx: JobContext, accessory: Accessory) -> Restic | None:
    if not kind_of(accessory).dump:
        return None
    repository = Repository.objects.select_related("server").get(
        pk=ctx.job.params["repository_id"], team=accessory.team
    )
    if locks.acquire(repository.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{repository.name} is busy with another job; nothing changed.")
    return opened(ctx, repository, accessory.server)


def _in_place(ctx: JobContext, accessory: Accessory, restic: Restic | None, image: str) -> None:
    """Recreated on the same volume; the old container waits aside and comes back when the new
    one is not ready or does not hold the tables the backup counted."""
    safety = _backed_up(ctx, accessory, restic)
    target = target_for(accessory.server)
    spec = replace(spec_of(accessory, asyncio.run(ssh.home_dir(target))), image=image)
    runner = StepRunner({accessory.server.pk: target}, ctx.log, contents=contents_of(accessory),
                        check_cancelled=ctx.check_cancelled)  # fmt: skip
    phases = plan_boot(spec).phases
    try:
        for phase in phases:
            if phase.title != DONE:
                asyncio.run(runner.phase(phase))
        _same_tables(ctx, accessory, safety)
    except BaseException:
        start = next(phase for phase in phases if phase.title == START)
        clean_up(ctx, runner, start, target, accessory.name)
        raise
    previous = accessories.previous(accessory.name)
    asyncio.run(ssh.run(target, ["docker", "rm", "--force", previous], log=ctx.log))


def _major(
    ctx: JobContext, accessory: Accessory, restic: Restic | None, image: str,
    majors: tuple[str, str],
) -> str:  # fmt: skip
    """Writes refused, the backup restored into a copy of the new image, the copy made live;
    the old data is kept. Returns the volume that keeps it."""
    if restic is None:
        raise JobFailed("A major upgrade goes by a backup: choose a repository.")
    ctx.log(f"PostgreSQL {majors[0]} → {majors[1]}: by dump and restore. Writes are refused "
            "from now until it ends.")  # fmt: skip
    _ask(ctx, accessory, READ_ONLY)
    try:
        safety = snapshot(ctx, restic, accessory)
        own_name = f"panel_restore_{ctx.job.pk}"
        rows = restore_copy(ctx, restic, accessory, safety, UPGRADE, own_name, image)
        differences = compared(safety.rows, rows)
        if differences:
            raise JobFailed(f"The copy on {image} holds other rows: {differences}")
        kept = f"{accessories.volume(accessory.name)}-pg{majors[0]}"
        name = copy_name(accessory, UPGRADE)
        switch = Switch(name, accessories.volume(name), image, own_name, rows, kept, keep=True)
        switch_data(ctx, accessory, switch)
    except BaseException:
        _ask(ctx, accessory, READ_WRITE)
        ctx.log(f"{accessory.name} accepts writes again, on its old image and data.")
        raise
    finally:
        remove_copy(ctx, accessory, UPGRADE)
    return kept


def _backed_up(ctx: JobContext, accessory: Accessory, restic: Restic | None) -> str:
    """The rows per table of a backup taken now ("" without one)."""
    if restic is None:
        return ""
    try:
        return snapshot(ctx, restic, accessory).rows
    except JobFailed as failure:
        raise JobFailed(f"{failure} Nothing is upgraded.") from failure


def _same_tables(ctx: JobContext, accessory: Accessory, rows: str) -> None:
    """The new engine answers on every table the backup counted (writes go on meanwhile, so the
    tables are compared, not their rows)."""
    kind, names = kind_of(accessory), sorted(secrets_of(accessory)[0])
    if not kind.count_rows:
        return
    asked = accessories.ask(accessory.name, names, list(kind.count_rows))
    counted = asyncio.run(ssh.run(target_for(accessory.server), asked, check=False))
    if not counted.ok:
        raise JobFailed(f"{accessory.name} does not answer: {counted.stderr.strip()[-300:]}")
    before = {line.rsplit(" ", 1)[0] for line in rows.splitlines()}
    after = {line.rsplit(" ", 1)[0] for line in counted.stdout.splitlines()}
    if rows and before != after:
        raise JobFailed(f"{accessory.name} lost tables: {', '.join(sorted(before - after))}")
    ctx.log(f"{accessory.name} answers on every table the backup counted ({len(after)}).")


def _majors(ctx: JobContext, accessory: Accessory, image: str) -> tuple[str, str] | None:
    """PostgreSQL's major version of the data and of the new image; None for other kinds."""
    if kind_of(accessory).key != "postgres":
        return None
    target, names = target_for(accessory.server), sorted(secrets_of(accessory)[0])
    data = asyncio.run(ssh.run(target, accessories.ask(accessory.name, names, DATA_MAJOR)))
    said = asyncio.run(ssh.run(target, ["docker", "run", "--rm", "--entrypoint", "postgres",
                                        image, "--version"]))  # fmt: skip
    found = re.search(r"\(PostgreSQL\) (\d+)", said.stdout)
    if found is None:
        raise JobFailed(f"{image} does not say which PostgreSQL it is: {said.stdout[:200]}")
    return data.stdout.strip(), found.group(1)


def _ask(ctx: JobContext, accessory: Accessory, statements: bytes) -> None:
    names = sorted(secrets_of(accessory)[0])
    told = accessories.ask(accessory.name, names, list(kind_of(accessory).client), stdin=True)
    asyncio.run(ssh.run(target_for(accessory.server), told, stdin=statements, log=ctx.log))
