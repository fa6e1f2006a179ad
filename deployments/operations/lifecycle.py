"""Stop (the proxy shows a maintenance page) and start an app's current release."""

from __future__ import annotations

import asyncio

from deployments.commands import containers, routes
from deployments.models import App, Container
from deployments.operations.deploy import DeployFlow, point_route
from deployments.operations.plan import Placement
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers import services as server_services
from servers import ssh


def stop(ctx: JobContext) -> None:
    app, rows, _ = _prepare(ctx)

    async def run() -> None:
        for row in rows:
            target = server_services.target_for(row.server)
            if row.role == "web":
                await point_route(ctx, target, app, routes.maintenance_handler())
            await ssh.run(
                target,
                containers.stop(row.name, app.stop_timeout),
                log=ctx.log,
                timeout=app.stop_timeout + 30,
            )

    _run(run())
    App.objects.filter(pk=app.pk).update(stopped=True)
    ctx.log(f"{app.name} is stopped; its domains answer 503 with a maintenance page.")


def start(ctx: JobContext) -> None:
    app, rows, held = _prepare(ctx)
    assert app.current_release is not None
    where = [
        Placement(
            server=row.server,
            role=row.role,
            proxied=row.role == "web",
            command=[],
            name=row.name,
            env={},
        )
        for row in rows
    ]
    flow = DeployFlow(ctx, app, app.current_release, where, held)

    async def run() -> None:
        for placement in where:
            await flow.run_cmd(placement.server, containers.start(placement.name))
        await flow.check_all()
        await flow.switch_all()

    _run(run())
    App.objects.filter(pk=app.pk).update(stopped=False)
    ctx.log(f"{app.name} is serving again.")


def _prepare(ctx: JobContext) -> tuple[App, list[Container], locks.Held]:
    app = App.objects.select_related("team", "current_release").get(pk=ctx.job.target_id)
    held = locks.acquire(app.lock_name, ctx.job.pk)
    if held is None:
        raise JobFailed(f"{app.name} is busy with another job; nothing changed.")
    if app.current_release is None:
        raise JobFailed(f"{app.name} has no live release yet.")
    rows = list(
        Container.objects.filter(release=app.current_release, running=True).select_related(
            "server__ssh_key"
        )
    )
    return app, rows, held


def _run(coroutine: object) -> None:
    try:
        asyncio.run(coroutine)  # type: ignore[arg-type]
    except ssh.SshError as error:
        raise JobFailed(str(error)) from error
