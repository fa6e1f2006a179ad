"""Remove an app: its route from every proxy, its containers and files, then its record."""

from __future__ import annotations

import asyncio

from deployments import releases
from deployments.models import App
from deployments.planner import plan_remove
from deployments.spec import host_of, route_of, servers_of
from panel.audit import Actor
from panel.errors import PanelError
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers.execute import StepRunner
from servers.targets import target_for


def remove(ctx: JobContext) -> None:
    app = App.objects.select_related("team").get(pk=ctx.job.target_id)
    if locks.acquire(app.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{app.name} is busy with another job; nothing was removed.")
    servers = servers_of(app, builder=False)
    plan = plan_remove(app.name, route_of(app), [host_of(server) for server in servers])
    runner = StepRunner(
        {server.pk: target_for(server) for server in servers},
        ctx.log,
        check_cancelled=ctx.check_cancelled,
    )
    try:
        asyncio.run(runner.phase(plan.phases[0]))
    except PanelError as error:
        raise JobFailed(f"{error} The app stays in the panel; run the removal again.") from error
    releases.removed(app, [server.name for server in servers], Actor.of_job(ctx.job))
    ctx.log(f"{app.name} is removed from its servers and from the panel.")
