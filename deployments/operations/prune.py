"""Keep the last N releases' containers and images of an app on each server; remove the rest,
and any container of the app the panel does not know (left by an interrupted deploy)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from deployments import releases
from deployments.commands import containers
from deployments.models import App, Container, Release, ReleaseStatus
from panel.jobs.runner import JobContext
from panel.log_kinds import LogKind
from servers import ssh


@dataclass(frozen=True)
class PrunePlan:
    drop: list[Container]
    drop_images: set[str]
    known: set[str]


def prune_plan(app: App) -> PrunePlan:
    kept_ids = {r.pk for r in Release.objects.retained(app)}
    if app.current_release_id:
        kept_ids.add(app.current_release_id)
    rows = list(Container.objects.filter(release__app=app).select_related("release"))
    # Beyond the kept releases: stopped containers, and any left by a failed or cut-off deploy.
    drop = [
        c
        for c in rows
        if c.release_id not in kept_ids
        and (not c.running or c.release.status != ReleaseStatus.LIVE)
    ]
    keep_images = {r.run_image for r in Release.objects.filter(pk__in=kept_ids)}
    keep_images |= {r.image for r in Release.objects.filter(pk__in=kept_ids)}
    drop_images = {c.release.run_image for c in drop} - keep_images
    return PrunePlan(drop, drop_images, {c.name for c in rows})


async def prune(ctx: JobContext, app: App, plan: PrunePlan, targets: list[ssh.Target]) -> None:
    ctx.log(f"== Prune (keeping {app.retain_releases} releases)")

    async def one(target: ssh.Target) -> None:
        try:
            await _prune_server(ctx, app, target, plan)
        except ssh.SshError as error:  # pruning never fails a deploy that is live
            ctx.log(f"[{target.name}] prune skipped: {error}", LogKind.ERROR)

    await asyncio.gather(*(one(target) for target in targets))


async def _prune_server(ctx: JobContext, app: App, target: ssh.Target, plan: PrunePlan) -> None:
    listed = await ssh.run(target, containers.list_for_app(app.name), log=ctx.log, log_output=False)
    on_host = set(listed.stdout.split())
    orphans = on_host - plan.known
    mine = [c for c in plan.drop if c.server_id == target.server_id]
    for name in sorted(orphans):
        ctx.log(f"[{target.name}] removing {name}: the panel did not start it in a finished deploy")
    for name in sorted(orphans | {c.name for c in mine if c.name in on_host}):
        await ssh.run(target, containers.remove(name), log=ctx.log, check=False)
    for image in sorted(plan.drop_images):
        await ssh.run(target, containers.remove_image(image), log=ctx.log, check=False)
    await asyncio.to_thread(releases.pruned, [c.pk for c in mine])
