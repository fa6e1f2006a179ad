"""App exec (Kamal's `app exec`): a command in a new container of the live release, or in a
running container of it; output streams into the job log."""

from __future__ import annotations

import asyncio
import shlex

from deployments.commands import containers
from deployments.models import App, Container
from deployments.operations import oneoff
from deployments.services import env_for_role
from panel.jobs.runner import JobContext, JobFailed
from servers import services as server_services
from servers import ssh


def app_exec(ctx: JobContext) -> None:
    app = App.objects.select_related("team", "current_release").get(pk=ctx.job.target_id)
    if app.current_release is None:
        raise JobFailed(f"{app.name} has no live release to run a command in.")
    command, mode = str(ctx.job.params["command"]), ctx.job.params.get("mode", "new")
    role, server = oneoff.primary(app)
    for variable in app.env.filter(secret=True):
        ctx.add_secret(variable.value)
    try:
        if mode == "running":
            running = Container.objects.filter(
                release=app.current_release, server=server, role=role, running=True
            ).first()
            if running is None:
                raise JobFailed(f"No running {role} container of {app.name} on {server.name}.")
            target = server_services.target_for(server)
            argv = containers.exec_in(running.name, shlex.split(command))
            asyncio.run(oneoff.stream_into_log(ctx, server, target, argv, "exec"))
        else:
            env = {key: value.reveal() for key, value in env_for_role(app, role).items()}
            asyncio.run(
                oneoff.run_one_off(
                    ctx, app, app.current_release, role, server, env, command, "exec"
                )
            )
    except ssh.SshError as error:
        raise JobFailed(str(error)) from error
