"""Stop (the proxy shows a maintenance page) and start an app's current release, each by the
planner's plan of the same steps a deploy uses."""

from __future__ import annotations

import asyncio

from deployments import releases
from deployments.models import App
from deployments.planner import plan_start, plan_stop
from deployments.spec import running_spec, servers_of
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers.execute import StepRunner
from servers.plans import Plan
from servers.targets import target_for


def stop(ctx: JobContext) -> None:
    app = _locked_app(ctx)
    _run(ctx, app, plan_stop(running_spec(app)))
    releases.stopped(app, Actor.of_job(ctx.job))
    ctx.log(f"{app.name} is stopped; its domains answer 503 with a maintenance page.")


def start(ctx: JobContext) -> None:
    app = _locked_app(ctx)
    _run(ctx, app, plan_start(running_spec(app)))
    releases.started(app, Actor.of_job(ctx.job))
    ctx.log(f"{app.name} is serving again.")


def _locked_app(ctx: JobContext) -> App:
    app = App.objects.select_related("team", "current_release").get(pk=ctx.job.target_id)
    if locks.acquire(app.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{app.name} is busy with another job; nothing changed.")
    if app.current_release is None:
        raise JobFailed(f"{app.name} has no live release yet.")
    return app


def _run(ctx: JobContext, app: App, plan: Plan) -> None:
    runner = StepRunner(
        {server.pk: target_for(server) for server in servers_of(app)},
        ctx.log,
        check_cancelled=ctx.check_cancelled,
    )

    async def run() -> None:
        for phase in plan.phases:
            await runner.phase(phase)

    asyncio.run(run())
