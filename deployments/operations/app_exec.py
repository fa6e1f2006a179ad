"""App exec (Kamal's `app exec`): a command in a new container of the live release, or in a
running container of it; output streams into the job log."""

from __future__ import annotations

import asyncio
import shlex

from deployments import spec as specs
from deployments.commands import containers
from deployments.env import env_for_role, secret_values
from deployments.models import App, Container
from deployments.planner import OneOff, env_content, plan_exec_in, plan_one_off
from panel.jobs.runner import JobContext, JobFailed
from servers.execute import StepRunner
from servers.targets import target_for


def app_exec(ctx: JobContext) -> None:
    app = App.objects.select_related("team", "current_release").get(pk=ctx.job.target_id)
    release = app.current_release
    if release is None:
        raise JobFailed(f"{app.name} has no live release to run a command in.")
    command = tuple(shlex.split(str(ctx.job.params["command"])))
    place = specs.one_off_place(app, specs.roles_of(app))
    if place is None:
        raise JobFailed(f"{app.name} has no servers to run a command on.")
    role, server = place
    for value in secret_values(app):
        ctx.add_secret(value)
    host = specs.host_of(server)
    if ctx.job.params.get("mode") == "running":
        running = Container.objects.filter(
            release=release, server=server, role=role.name, running=True
        ).first()
        if running is None:
            raise JobFailed(f"No running {role.name} container of {app.name} on {server.name}.")
        plan = plan_exec_in(host, running.name, command)
        contents = {}
    else:
        deploy = specs.deploy_spec(
            app,
            specs.Image(release.version, release.run_image),
            nonce=specs.new_nonce(),
            hooks=False,
        )
        values = {key: value.reveal() for key, value in env_for_role(app, role.name).items()}
        plan = plan_one_off(deploy, OneOff(host, role.name, tuple(sorted(values)), command), "exec")
        contents = {env_content(role.name): containers.env_file(values)}
    runner = StepRunner(
        {server.pk: target_for(server)},
        ctx.log,
        contents=contents,
        check_cancelled=ctx.check_cancelled,
    )
    asyncio.run(runner.phase(plan.phases[0]))
