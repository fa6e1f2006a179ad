"""Accessory jobs (Kamal's `accessory boot|reboot|start|stop|restart|exec|remove`), each running
its plan. A boot that does not become ready removes the container it started (the data volume
stays) and says why, with the container's last log lines in the job log; a reboot that does not
brings the old container back."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable, Iterable

from deployments import accessory_state
from deployments.accessory_kinds import KINDS, Kind, config_for
from deployments.accessory_links import redis_user_line
from deployments.accessory_plans import (
    CONFIG_CONTENT,
    ENV_CONTENT,
    START,
    AccessorySpec,
    file_content,
    plan_boot,
    plan_container,
    plan_exec,
    plan_reboot,
    plan_remove,
)
from deployments.commands import accessories, containers
from deployments.models import Accessory, AccessoryLink
from deployments.spec import host_of
from panel.audit import Actor
from panel.errors import PanelError
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh
from servers.execute import StepRunner
from servers.plans import Phase, Plan
from servers.targets import target_for


def boot(ctx: JobContext) -> None:
    accessory = locked(ctx)
    run_plan(ctx, accessory, plan_boot)
    accessory_state.booted(accessory, Actor.of_job(ctx.job))
    ctx.log(
        f"{accessory.name} is ready; apps on {accessory.server.name} reach it as {accessory.name}."
    )


def reboot(ctx: JobContext) -> None:
    accessory = locked(ctx)
    run_plan(ctx, accessory, plan_reboot)
    accessory_state.booted(accessory, Actor.of_job(ctx.job))
    ctx.log(f"{accessory.name} is ready again, on the same data.")


def remove(ctx: JobContext) -> None:
    accessory = locked(ctx)
    with_data = bool(ctx.job.params.get("with_data"))
    run_plan(ctx, accessory, lambda spec: plan_remove(spec, with_data=with_data))
    accessory_state.removed(accessory, Actor.of_job(ctx.job), with_data=with_data)
    kept = "" if with_data else " Its data volume is kept."
    ctx.log(f"{accessory.name} is removed.{kept}")


def start(ctx: JobContext) -> None:
    _container_job(ctx, accessories.start, "start")


def stop(ctx: JobContext) -> None:
    _container_job(ctx, accessories.stop, "stop")


def restart(ctx: JobContext) -> None:
    _container_job(ctx, accessories.restart, "restart")


def exec_in(ctx: JobContext) -> None:
    """A one-off command inside the running accessory; every secret of it is masked in the log."""
    accessory = locked(ctx)
    command = tuple(shlex.split(str(ctx.job.params["command"])))
    run_plan(ctx, accessory, lambda spec: plan_exec(spec, command))


def _container_job(ctx: JobContext, command: Callable[[str], list[str]], title: str) -> None:
    accessory = locked(ctx)
    plan = plan_container(host_of(accessory.server), command(accessory.name), title)
    run_plan(ctx, accessory, lambda _: plan)
    ctx.log(f"{accessory.name}: {title} done.")


def secrets_of(accessory: Accessory) -> tuple[dict[str, str], str]:
    """Its variables and its generated password, decrypted for the job only."""
    stored = accessory_state.stored(accessory)
    variables = {str(k): str(v) for k, v in stored.get("variables", {}).items()}
    return variables, str(stored.get("password", ""))


def files_of(accessory: Accessory) -> dict[str, tuple[str, bool]]:
    """The files given to it: path inside → (content, secret), decrypted for the job only."""
    return {
        str(path): (str(file["content"]), bool(file["secret"]))
        for path, file in accessory_state.stored(accessory).get("files", {}).items()
    }


def kind_of(accessory: Accessory) -> Kind:
    return KINDS.get(accessory.kind, KINDS["custom"])


def locked(ctx: JobContext) -> Accessory:
    accessory = Accessory.objects.select_related("team", "server__ssh_key").get(
        pk=ctx.job.target_id
    )
    if locks.acquire(accessory.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{accessory.name} is busy with another job; nothing changed.")
    return accessory


def spec_of(accessory: Accessory, home: str) -> AccessorySpec:
    kind = kind_of(accessory)
    values, _ = secrets_of(accessory)
    custom_ready = tuple(shlex.split(accessory.ready_command)) if accessory.ready_command else ()
    return AccessorySpec(
        name=accessory.name,
        host=host_of(accessory.server),
        home=home,
        image=accessory.image,
        env_names=tuple(sorted(values)),
        volumes=tuple(accessory.volumes),
        publish=tuple(accessory.publish),
        command=tuple(shlex.split(accessory.command)) if accessory.command else kind.command,
        ready=kind.ready or custom_ready,
        ready_timeout=float(accessory.ready_timeout),
        config_path=kind.config_path,
        ready_port=0 if kind.ready or custom_ready else accessory.port,
        owner=str(accessory.pk),
        files=tuple((path, secret) for path, (_, secret) in sorted(files_of(accessory).items())),
    )


def users_of(links: Iterable[AccessoryLink]) -> tuple[str, ...]:
    """The config lines of links' Redis users."""
    return tuple(redis_user_line(link.user, link.password.reveal()) for link in links)


def contents_of(accessory: Accessory, users: tuple[str, ...] | None = None) -> dict[str, bytes]:
    """The env file and (for engines that read one) the config file with the links' users, or
    with `users` when a link job is changing them."""
    values, password = secrets_of(accessory)
    contents = {ENV_CONTENT: containers.env_file(values)}
    for path, (content, _) in files_of(accessory).items():
        contents[file_content(path)] = content.encode()
    kind = kind_of(accessory)
    if kind.config_path:
        lines = users_of(accessory.links.all()) if users is None else users
        contents[CONFIG_CONTENT] = config_for(kind, password, lines).encode()
    return contents


def run_plan(
    ctx: JobContext,
    accessory: Accessory,
    planner: Callable[[AccessorySpec], Plan],
    *,
    secrets: dict[str, str] | None = None,
    users: tuple[str, ...] | None = None,
) -> None:
    _, password = secrets_of(accessory)
    for value in [password, *(secrets or {}).values()]:
        if value:
            ctx.add_secret(value)
    target = target_for(accessory.server)
    plan = planner(spec_of(accessory, asyncio.run(ssh.home_dir(target))))
    runner = StepRunner(
        {accessory.server.pk: target},
        ctx.log,
        secrets=secrets,
        contents=contents_of(accessory, users),
        check_cancelled=ctx.check_cancelled,
    )
    for phase in plan.phases:
        try:
            asyncio.run(runner.phase(phase))
        except BaseException:
            if phase.title == START:
                clean_up(ctx, runner, phase, target, accessory.name)
            raise


def clean_up(
    ctx: JobContext,
    runner: StepRunner,
    start: Phase,
    target: ssh.Target,
    name: str,
    put_back: Callable[[], None] | None = None,
) -> None:
    """Remove the container that did not become ready; bring the old one back if a reboot set
    it aside (after `put_back` puts its data back, when its data was changed), and wait until
    it answers again."""
    _, *wait = start.lanes[0]
    asyncio.run(ssh.run(target, accessories.remove(name), check=False, log=ctx.log))
    if put_back is None:
        ctx.log("The container that did not become ready is removed; its data stays.")
    else:
        ctx.log("The container that did not become ready is removed.")
        put_back()
    back = asyncio.run(ssh.run(target, accessories.bring_back(name), check=False))
    if not (back.ok and back.stdout.strip()):
        return
    try:
        for step in wait:
            asyncio.run(runner.step(step))
    except PanelError as error:
        ctx.log(f"The old container is back but not ready: {error}", LogKind.ERROR)
    else:
        ctx.log("The old container is back and ready, on the same data.")
