"""Every write to accessories and their links (audited), and the starting of their jobs."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.db import transaction

from deployments import accessory_links, accessory_state, link_state
from deployments.accessory_kinds import KINDS, env_for
from deployments.commands import accessories as accessory_commands
from deployments.models import Accessory, AccessoryLink, App, EnvVar
from deployments.services import DeployRefused
from deployments.tasks import (
    boot_accessory,
    exec_accessory,
    link_accessory,
    reboot_accessory,
    remove_accessory,
    restart_accessory,
    rotate_link,
    start_accessory,
    stop_accessory,
    unlink_accessory,
)
from panel import audit
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs import services as jobs
from panel.models import AuditAction, Job, JobKind, Team
from panel.sensitive import Sensitive
from servers.models import Server


def create_accessory(actor: Actor, team: Team, **options: Any) -> Accessory:
    """An accessory of a known kind (or any image), with a generated password that is stored
    encrypted and never regenerated; its data on a named volume, and any volumes given.
    `options`: those of `new_accessory`."""
    with transaction.atomic():
        accessory = new_accessory(team, **options)
        audit.record(
            actor,
            AuditAction.ACCESSORY_CREATE,
            team=team,
            target=accessory,
            details={"kind": accessory.kind, "image": accessory.image,
                     "server": accessory.server.name, "publish": accessory.publish,
                     "volumes": accessory.volumes,
                     "variables": sorted(accessory_state.stored(accessory)["variables"]),
                     "command": accessory.command},
        )  # fmt: skip
    return accessory


def new_accessory(
    team: Team,
    *,
    name: str,
    server: Server,
    kind: str,
    image: str = "",
    publish: list[str] | None = None,
    port: int = 0,
    ready_command: str = "",
    command: str = "",
    variables: dict[str, str] | None = None,
    volumes: list[str] | None = None,
) -> Accessory:
    """The accessory, saved; the caller records what happened."""
    engine = KINDS[kind]
    password = secrets.token_urlsafe(24)
    data = [f"{accessory_commands.volume(name)}:{engine.data_path}"] if engine.data_path else []
    stored = {
        "variables": {**(variables or {}), **env_for(engine, password)},
        "password": password,
    }
    accessory = Accessory(
        team=team,
        name=name,
        server=server,
        kind=kind,
        image=image or engine.image,
        volumes=data + (volumes or []),
        publish=publish or [],
        port=engine.port or port,
        ready_command=ready_command,
        command=command,
    )
    accessory.env = Sensitive(json.dumps(stored))
    accessory.save()
    return accessory


ACCESSORY_JOBS = {
    "boot": (JobKind.ACCESSORY_BOOT, boot_accessory),
    "reboot": (JobKind.ACCESSORY_REBOOT, reboot_accessory),
    "start": (JobKind.ACCESSORY_START, start_accessory),
    "stop": (JobKind.ACCESSORY_STOP, stop_accessory),
    "restart": (JobKind.ACCESSORY_RESTART, restart_accessory),
    "remove": (JobKind.ACCESSORY_REMOVE, remove_accessory),
}


def start_accessory_job(
    actor: Actor, accessory: Accessory, action: str, *, with_data: bool = False
) -> Job:
    """Boot, reboot, start, stop, restart or remove (the data only when asked) as a job."""
    kind, task = ACCESSORY_JOBS[action]
    if action == "remove" and (apps := [link.app.name for link in accessory.links.all()]):
        raise DeployRefused(
            f"{', '.join(sorted(apps))} still use {accessory.name}: unlink them first."
        )
    return _enqueue(actor, accessory, kind, task, {"with_data": True} if with_data else {})


def start_exec(actor: Actor, accessory: Accessory, command: str) -> Job:
    """A one-off command inside the running accessory (validated by the form)."""
    return _enqueue(actor, accessory, JobKind.ACCESSORY_EXEC, exec_accessory, {"command": command})


def start_link(
    actor: Actor, accessory: Accessory, app: App, *, variable: str, database: str, user: str
) -> Job:
    """Refused with a reason when the accessory has no links, the app cannot reach it, or the
    names are taken; else the job that creates the database and user and sets the variable."""
    engine = KINDS.get(accessory.kind, KINDS["custom"]).engine
    if not engine:
        raise DeployRefused(f"{accessory.name} runs any image: the panel cannot link it.")
    if app.team_id != accessory.team_id:
        raise DeployRefused("That app is not in this accessory's team.")
    for name in (database, user):
        accessory_links.validate_identifier(name)
    if EnvVar.objects.filter(app=app, key=variable).exists():
        raise DeployRefused(
            f"{app.name} already has a variable {variable}: pick another name for this link."
        )
    if AccessoryLink.objects.filter(accessory=accessory, user=user).exists():
        raise DeployRefused(f"{accessory.name} already has a link with the user {user}.")
    if link_state.address_of(accessory, app) is None:
        raise DeployRefused(link_state.UNREACHABLE.format(app=app.name, accessory=accessory.name))
    params: dict[str, object] = {
        "app_id": str(app.pk),
        "variable": variable,
        "database": database,
        "user": user,
    }
    if engine == "redis":
        taken = set(accessory.links.values_list("number", flat=True))
        free = [n for n in range(accessory_links.REDIS_DATABASES) if n not in taken]
        if not free:
            raise DeployRefused(f"{accessory.name} has no free database number left.")
        params["number"] = free[0]
    return _enqueue(actor, accessory, JobKind.ACCESSORY_LINK, link_accessory, params)


def start_unlink(actor: Actor, link: AccessoryLink, *, drop: bool) -> Job:
    params: dict[str, object] = {"link_id": str(link.pk), "drop": drop, "app": link.app.name}
    return _enqueue(actor, link.accessory, JobKind.ACCESSORY_UNLINK, unlink_accessory, params)


def set_file(actor: Actor, accessory: Accessory, path: str, content: str, *, secret: bool) -> None:
    """A file given to it (applied by its next boot or reboot); audited without its content."""
    accessory_state.set_file(accessory, actor, path, content, secret=secret)


def remove_file(actor: Actor, accessory: Accessory, path: str) -> None:
    accessory_state.remove_file(accessory, actor, path)


def show_password(actor: Actor, accessory: Accessory) -> str:
    return accessory_state.password_shown(accessory, actor)


def start_rotation(actor: Actor, link: AccessoryLink) -> Job:
    """A new password for the link, the app redeployed with it, the old one retired."""
    holder = locks.holder_of(link.app.lock_name)
    if holder is not None:
        raise DeployRefused(f"{link.app.name} is busy with job #{holder.pk}; rotate when it ends.")
    params: dict[str, object] = {"link_id": str(link.pk), "app": link.app.name}
    return _enqueue(actor, link.accessory, JobKind.ACCESSORY_ROTATE, rotate_link, params)


def _enqueue(
    actor: Actor, accessory: Accessory, kind: JobKind, task: object, params: dict[str, object]
) -> Job:
    holder = locks.holder_of(accessory.lock_name)
    if holder is not None:
        raise DeployRefused(
            f"{accessory.name} is busy with job #{holder.pk}; try again when it ends."
        )
    return jobs.enqueue(
        kind=kind, team=accessory.team, actor=actor, task=task, target=accessory, params=params
    )
