"""Accessory jobs (Kamal's `accessory boot|reboot|remove`), each running its plan. A boot that
does not become ready removes the container it started (the data volume stays) and says why,
with the container's last log lines in the job log."""

from __future__ import annotations

import asyncio
import json
import shlex

from deployments import accessory_state
from deployments.accessory_kinds import KINDS, config_for
from deployments.accessory_plans import (
    CONFIG_CONTENT,
    ENV_CONTENT,
    START,
    AccessorySpec,
    plan_boot,
    plan_reboot,
    plan_remove,
)
from deployments.commands import accessories, containers
from deployments.models import Accessory
from deployments.spec import host_of
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers import ssh
from servers.execute import StepRunner
from servers.plans import Plan
from servers.targets import target_for


def boot(ctx: JobContext) -> None:
    accessory = _locked(ctx)
    _run(ctx, accessory, plan_boot)
    accessory_state.booted(accessory, Actor.of_job(ctx.job))
    ctx.log(
        f"{accessory.name} is ready; apps on {accessory.server.name} reach it as {accessory.name}."
    )


def reboot(ctx: JobContext) -> None:
    accessory = _locked(ctx)
    _run(ctx, accessory, plan_reboot)
    accessory_state.booted(accessory, Actor.of_job(ctx.job))
    ctx.log(f"{accessory.name} is ready again, on the same data.")


def remove(ctx: JobContext) -> None:
    accessory = _locked(ctx)
    with_data = bool(ctx.job.params.get("with_data"))
    _run(ctx, accessory, lambda spec: plan_remove(spec, with_data=with_data))
    accessory_state.removed(accessory, Actor.of_job(ctx.job), with_data=with_data)
    kept = "" if with_data else " Its data volume is kept."
    ctx.log(f"{accessory.name} is removed.{kept}")


def secrets_of(accessory: Accessory) -> tuple[dict[str, str], str]:
    """Its variables and its generated password, decrypted for the job only."""
    text = accessory.env.reveal() if accessory.env else ""
    stored = json.loads(text) if text else {}
    variables = {str(k): str(v) for k, v in stored.get("variables", {}).items()}
    return variables, str(stored.get("password", ""))


def _locked(ctx: JobContext) -> Accessory:
    accessory = Accessory.objects.select_related("team", "server__ssh_key").get(
        pk=ctx.job.target_id
    )
    if locks.acquire(accessory.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{accessory.name} is busy with another job; nothing changed.")
    return accessory


def _run(ctx: JobContext, accessory: Accessory, planner: object) -> None:
    values, password = secrets_of(accessory)
    if password:
        ctx.add_secret(password)
    kind = KINDS.get(accessory.kind, KINDS["custom"])
    target = target_for(accessory.server)
    spec = AccessorySpec(
        name=accessory.name,
        host=host_of(accessory.server),
        home=asyncio.run(ssh.home_dir(target)),
        image=accessory.image,
        env_names=tuple(sorted(values)),
        volumes=tuple(accessory.volumes),
        publish=tuple(accessory.publish),
        command=tuple(shlex.split(accessory.command)) if accessory.command else kind.command,
        ready=kind.ready,
        ready_timeout=float(accessory.ready_timeout),
        config_path=kind.config_path,
    )
    contents = {ENV_CONTENT: containers.env_file(values)}
    if kind.config_path:
        contents[CONFIG_CONTENT] = config_for(kind, password).encode()
    plan: Plan = planner(spec)  # type: ignore[operator]
    runner = StepRunner(
        {accessory.server.pk: target},
        ctx.log,
        contents=contents,
        check_cancelled=ctx.check_cancelled,
    )
    for phase in plan.phases:
        try:
            asyncio.run(runner.phase(phase))
        except BaseException:
            if phase.title == START:
                asyncio.run(
                    ssh.run(target, accessories.remove(accessory.name), check=False, log=ctx.log)
                )
                ctx.log("The container that did not become ready is removed; its data stays.")
            raise
