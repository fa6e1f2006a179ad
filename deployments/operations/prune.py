"""Keep the last N releases' containers and images of an app on each server; remove the rest,
and any container of the app the panel does not know (left by an interrupted deploy)."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async

from deployments.commands import containers
from deployments.models import App, Container, Release, ReleaseStatus
from deployments.operations.plan import Placement
from panel.jobs.runner import JobContext
from servers import services as server_services
from servers import ssh
from servers.models import Server


async def prune(ctx: JobContext, app: App, where: list[Placement]) -> None:
    servers = {p.server.pk: p.server for p in where}
    plan = await sync_to_async(_plan)(app)
    ctx.log(f"== Prune (keeping {app.retain_releases} releases)")

    async def one(server: Server) -> None:
        try:
            await _prune_server(ctx, app, server, plan)
        except ssh.SshError as error:  # pruning never fails a deploy that is live
            ctx.log(f"[{server.name}] prune skipped: {error}", "err")

    await asyncio.gather(*(one(server) for server in servers.values()))


class _Plan:
    def __init__(
        self, keep_images: set[str], drop: list[Container], drop_images: set[str], known: set[str]
    ) -> None:
        self.keep_images, self.drop, self.drop_images, self.known = (
            keep_images,
            drop,
            drop_images,
            known,
        )


def _plan(app: App) -> _Plan:
    kept = list(
        Release.objects.filter(
            app=app, status__in=[ReleaseStatus.LIVE, ReleaseStatus.RETIRED]
        ).order_by("-id")[: app.retain_releases]
    )
    kept_ids = {r.pk for r in kept}
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
    keep_images = {r.image for r in Release.objects.filter(pk__in=kept_ids)}
    drop_images = {c.release.image for c in drop} - keep_images
    known = {c.name for c in rows}
    return _Plan(keep_images, drop, drop_images, known)


async def _prune_server(ctx: JobContext, app: App, server: Server, plan: _Plan) -> None:
    target = server_services.target_for(server)
    listed = await ssh.run(target, containers.list_for_app(app.name), log=ctx.log, log_output=False)
    on_host = set(listed.stdout.split())
    orphans = on_host - plan.known
    mine = [c for c in plan.drop if c.server_id == server.pk]
    for name in sorted(orphans):
        ctx.log(f"[{server.name}] removing {name}: the panel did not start it in a finished deploy")
    for name in sorted(orphans | {c.name for c in mine if c.name in on_host}):
        await ssh.run(target, containers.remove(name), log=ctx.log, check=False)
    for image in sorted(plan.drop_images):
        await ssh.run(target, containers.remove_image(image), log=ctx.log, check=False)
    await sync_to_async(_forget)([c.pk for c in mine])


def _forget(ids: list[int]) -> None:
    Container.objects.filter(pk__in=ids).delete()
