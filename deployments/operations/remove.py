"""Remove an app: its route from every proxy, its containers and env files, then its record."""

from __future__ import annotations

import asyncio
import posixpath

from django.db import transaction

from deployments.commands import containers, routes
from deployments.models import App
from panel import audit
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers import services as server_services
from servers import ssh
from servers.commands import proxy
from servers.models import Server
from servers.proxy_api import admin


def remove(ctx: JobContext) -> None:
    app = App.objects.select_related("team").get(pk=ctx.job.target_id)
    if locks.acquire(app.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{app.name} is busy with another job; nothing was removed.")
    servers = list(Server.objects.filter(roles__app=app).distinct().select_related("ssh_key"))
    try:
        asyncio.run(_clean_servers(ctx, app, servers))
    except ssh.SshError as error:
        raise JobFailed(f"{error} The app stays in the panel; run the removal again.") from error
    with transaction.atomic():
        audit.record(
            Actor.of_job(ctx.job),
            "app.removed",
            team=app.team,
            target=app,
            details={"servers": [s.name for s in servers]},
        )
        app.delete()
    ctx.log(f"{app.name} is removed from its servers and from the panel.")


async def _clean_servers(ctx: JobContext, app: App, servers: list[Server]) -> None:
    async def one(server: Server) -> None:
        target = server_services.target_for(server)
        for proxy_server in (proxy.HTTP_SERVER, proxy.HTTPS_SERVER):
            response = await admin(target, routes.delete_route(app.pk.hex, proxy_server))
            ctx.log(
                f"[{server.name}] proxy route on {proxy_server} removed (HTTP {response.status})"
            )
        listed = await ssh.run(
            target, containers.list_for_app(app.name), log=ctx.log, log_output=False
        )
        for name in listed.stdout.split():
            await ssh.run(target, containers.remove(name), log=ctx.log)
        folder = posixpath.join(await ssh.home_dir(target), ".panel", "apps", app.name)
        await ssh.run(target, ["rm", "-rf", "--", folder], log=ctx.log)

    await asyncio.gather(*(one(server) for server in servers))
