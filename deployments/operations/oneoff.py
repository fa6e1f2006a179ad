"""One-off containers of a release (hooks, app exec): the app's env, output into the job log."""

from __future__ import annotations

import posixpath
import secrets
import shlex
from dataclasses import dataclass

from deployments.commands import containers
from deployments.models import App, Release
from deployments.services import env_for_role
from panel.jobs.runner import JobContext, JobFailed
from servers import services as server_services
from servers import ssh
from servers.models import Server

ONE_OFF_TIMEOUT = 3600


def primary(app: App) -> tuple[str, Server]:
    """The role and server one-off containers run on: the first web server, else the first
    server of any role."""
    roles = sorted(app.roles.prefetch_related("servers__ssh_key"), key=lambda r: r.name != "web")
    for role in roles:
        servers = list(role.servers.all())
        if servers:
            return role.name, servers[0]
    raise JobFailed(f"{app.name} has no servers to run a one-off container on.")


async def run_one_off(
    ctx: JobContext,
    app: App,
    release: Release,
    role: str,
    server: Server,
    env: dict[str, str],
    command: str,
    label: str,
) -> None:
    """Run `command` in a new container of the release; JobFailed if it exits non-zero."""
    target = server_services.target_for(server)
    home = await ssh.home_dir(target)
    env_path = posixpath.join(home, ".panel", "apps", app.name, f"{role}.env")
    await ssh.run(
        target, ["mkdir", "-p", "-m", "700", "--", posixpath.dirname(env_path)], log=ctx.log
    )
    await ssh.put(target, env_path, containers.env_file(env), 0o600)
    argv = containers.run_once(
        name=f"{app.name}-{label}-{secrets.token_hex(3)}",
        image=release.image,
        app=app.name,
        env_path=env_path,
        env_names=sorted(env),
        volumes=list(app.volumes),
        command=shlex.split(command),
    )
    await stream_into_log(ctx, server, target, argv, label)


async def stream_into_log(
    ctx: JobContext, server: Server, target: ssh.Target, argv: list[str], label: str
) -> None:
    ctx.log(f"[{server.name}] {shlex.join(argv)}", "cmd")
    try:
        async for _, line in ssh.stream(target, argv, timeout=ONE_OFF_TIMEOUT):
            ctx.log(f"[{server.name}] {line}", "out")
            ctx.check_cancelled()
    except ssh.CommandFailed as failed:
        raise JobFailed(
            f"The {label} command failed on {server.name} (exit {failed.result.exit_status})."
        ) from failed
    ctx.log(f"[{server.name}] {label}: exit 0")


@dataclass(frozen=True)
class Place:
    """Where and with what a one-off container runs; read from the database before any await."""

    role: str
    server: Server
    env: dict[str, str]


def place_for(app: App) -> Place:
    role, server = primary(app)
    env = {key: value.reveal() for key, value in env_for_role(app, role).items()}
    return Place(role, server, env)


async def run_hook(
    ctx: JobContext, app: App, release: Release, place: Place, command: str, label: str
) -> None:
    ctx.log(f"== {label} on {place.server.name}: {command}")
    await run_one_off(ctx, app, release, place.role, place.server, place.env, command, label)
