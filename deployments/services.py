"""Every write to apps, env and releases (audited), and the starting of deploy jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deployments import registry, releases
from deployments.models import App, CleanupSchedule, Container, EnvVar, Release, Role
from deployments.tasks import (
    clean_up_server,
    deploy_app,
    exec_in_app,
    remove_app,
    start_app,
    stop_app,
)
from panel import audit
from panel.audit import Actor
from panel.fields import is_set
from panel.jobs import locks
from panel.jobs import services as jobs
from panel.models import AuditAction, Job, JobKind, Team
from panel.schedules import claim_due, give_back
from panel.sensitive import Sensitive
from servers.models import Server


class DeployKind(StrEnum):
    DEPLOY = "deploy"
    REDEPLOY = "redeploy"
    ROLLBACK = "rollback"
    RESTART = "restart"


DEPLOY_JOBS = {
    DeployKind.DEPLOY: JobKind.APP_DEPLOY,
    DeployKind.REDEPLOY: JobKind.APP_REDEPLOY,
    DeployKind.ROLLBACK: JobKind.APP_ROLLBACK,
    DeployKind.RESTART: JobKind.APP_RESTART,
}
SIMPLE_JOBS = {"stop": (JobKind.APP_STOP, stop_app), "start": (JobKind.APP_START, start_app)}


class DeployRefused(Exception):
    """A deploy that cannot start; the message says why in plain words."""


def create_app(actor: Actor, team: Team, fields: dict[str, Any], roles: dict[str, Any]) -> App:
    with transaction.atomic():
        app = new_app(team, dict(fields), roles)
        audit.record(
            actor, AuditAction.APP_CREATE, team=team, target=app, details=_describe(fields, roles)
        )
    return app


def new_app(team: Team, fields: dict[str, Any], roles: dict[str, Any]) -> App:
    """The app and its roles, saved; the caller records what happened."""
    password = fields.pop("registry_password", "")
    token = fields.pop("git_token", "")
    build_args = fields.pop("build_args", "")
    app = App(team=team, **fields)
    app.registry_password = password or ""
    app.git_token = token or ""
    app.build_args = build_args or ""
    app.save()
    _save_roles(app, roles)
    return app


def update_app(actor: Actor, app: App, fields: dict[str, Any], roles: dict[str, Any]) -> App:
    password = fields.pop("registry_password", "")
    token = fields.pop("git_token", "")
    build_args = fields.pop("build_args", "")
    # The form has set the new values on `app` already: the old ones are in the database.
    stored = App.objects.get(pk=app.pk)
    before = {**(audit.values_of(stored, fields) or {}), "roles": _roles_of(stored)}
    with transaction.atomic():
        for name, value in fields.items():
            setattr(app, name, value)
        if build_args:
            app.build_args = build_args
        if password:
            app.registry_password = password
        if token:
            app.git_token = token
        app.save()
        _save_roles(app, roles)
        details = _describe(fields, roles)
        details["registry_login"] = "replaced" if password else "unchanged"
        secrets = {"registry_password": bool(password), "git_token": bool(token),
                   "build_args": bool(build_args)}  # fmt: skip
        details |= audit.diff(before, {**fields, "roles": details["roles"]}, secrets=secrets)
        audit.record(actor, AuditAction.APP_UPDATE, team=app.team, target=app, details=details)
    return app


def start_remove(actor: Actor, app: App) -> Job:
    """Take the app off its servers (route, containers, env files), then out of the panel."""
    holder = locks.holder_of(app.lock_name)
    if holder is not None:
        raise DeployRefused(f"{app.name} is busy with job #{holder.pk}; try again when it ends.")
    return jobs.enqueue(
        kind=JobKind.APP_REMOVE, team=app.team, actor=actor, task=remove_app, target=app
    )


def set_env(
    actor: Actor,
    app: App,
    key: str,
    value: str,
    *,
    secret: bool,
    role: str = "",
    for_containers: bool = True,
    for_build: bool = False,
) -> None:
    """Set a variable for the containers, the build (a BuildKit secret, app-wide), or both."""
    secret = secret or for_build
    with transaction.atomic():
        existing = EnvVar.objects.filter(app=app, role=role, key=key).first()
        hidden = secret or (existing is not None and existing.secret)
        before = audit.values_of(existing, ["secret", "uses"])
        if before is not None and existing is not None and not hidden:
            before["value"] = existing.value.reveal()
        value_changed = existing is None or existing.value.reveal() != value
        variable = existing or EnvVar(team=app.team, app=app, role=role, key=key)
        variable.value = Sensitive(value)
        variable.secret = secret
        variable.for_containers = for_containers
        variable.for_build = for_build and not role
        variable.save()
        shown = "[REDACTED]" if secret else value
        audit.record(
            actor,
            AuditAction.APP_ENV_SET,
            team=app.team,
            target=app,
            details={
                "key": key,
                "role": role or "all",
                "secret": secret,
                "shown": shown,
                "for": variable.uses,
                **audit.diff(
                    before,
                    {
                        "secret": secret,
                        "uses": variable.uses,
                        **({} if hidden else {"value": value}),
                    },
                    secrets={"value": value_changed} if hidden else None,
                ),
            },
        )


def delete_env(actor: Actor, variable: EnvVar) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            AuditAction.APP_ENV_DELETE,
            team=variable.team,
            target=variable.app,
            details={"key": variable.key, "role": variable.role or "all"},
        )
        variable.delete()


def start_role_redeploy(actor: Actor, app: App, role: str) -> Job:
    """Redeploy one role alone with the live release (new containers, health-gated)."""
    if app.current_release is None:
        raise DeployRefused(f"{app.name} has no live release to redeploy.")
    if not Role.objects.filter(app=app, name=role, servers__isnull=False).exists():
        raise DeployRefused(f"{app.name} has no role {role!r} with servers.")
    return _enqueue_deploy(actor, app, app.current_release, DeployKind.REDEPLOY, roles=[role])


def start_deploy(
    actor: Actor,
    app: App,
    *,
    version: str,
    kind: str = "deploy",
    nonce: str = "",
    why: dict[str, Any] | None = None,
) -> Job:
    """Record a release of this version (an image tag; for an app built from git a ref, ""
    for its branch head) and queue its deploy. `nonce` names the containers the plan page
    showed, so the deploy creates those very containers."""
    _refuse_while_busy(app)
    if nonce and Container.objects.filter(release__app=app, name__endswith=f"-{nonce}").exists():
        raise DeployRefused("This plan was deployed already; open the plan again for a new one.")
    if settings.PANEL_CHECK_TAGS and not app.git_url:
        _refuse_a_missing_tag(app, version)
    with transaction.atomic():
        release = Release.objects.create(
            app=app,
            version=version,
            image=f"{app.image}:{version}",
            kind=kind,
            created_by=actor.user,
            created_by_label=actor.label,
        )
        return _enqueue_deploy(actor, app, release, DeployKind(kind), nonce=nonce, why=why)


def start_again(actor: Actor, app: App, source: Release, kind: str) -> Job:
    """Deploy an earlier (rollback) or the live release (redeploy, restart) again: the same
    image, by digest where known; nothing is built or fetched again. Only releases that are
    still retained can be rolled back to."""
    _refuse_while_busy(app)
    if kind == DeployKind.ROLLBACK and source not in Release.objects.retained(app):
        raise DeployRefused(
            f"{source.version} is not a retained release of {app.name}; only those can be "
            "rolled back to."
        )
    with transaction.atomic():
        release = releases.again(app, source, kind, actor)
        return _enqueue_deploy(actor, app, release, DeployKind(kind))


def _refuse_a_missing_tag(app: App, tag: str) -> None:
    password = app.registry_password.reveal() if is_set(app, "registry_password") else ""
    if registry.tag_exists(app.image, tag, app.registry_username, password) is False:
        raise DeployRefused(
            f"Tag {tag} is not in {registry.reference(app.image, tag)}: nothing was deployed. "
            "Check the tag, or push the image first."
        )


def _refuse_while_busy(app: App) -> None:
    holder = locks.holder_of(app.lock_name)
    if holder is not None:
        raise DeployRefused(
            f"{app.name} is being deployed by job #{holder.pk} ({holder.actor_label}); "
            "wait for it to finish or cancel it."
        )
    if not Role.objects.filter(app=app, servers__isnull=False).exists():
        raise DeployRefused(f"{app.name} has no servers yet: give its roles servers first.")


def _enqueue_deploy(
    actor: Actor,
    app: App,
    release: Release,
    kind: DeployKind,
    *,
    roles: list[str] | None = None,
    nonce: str = "",
    why: dict[str, Any] | None = None,
) -> Job:
    with transaction.atomic():
        job = jobs.enqueue(
            kind=DEPLOY_JOBS[kind],
            team=app.team,
            actor=actor,
            task=deploy_app,
            target=app,
            params={
                "release": release.pk,
                "kind": str(kind),
                "version": release.version,
                **({"roles": roles} if roles else {}),
                **({"nonce": nonce} if nonce else {}),
            },
            why=why,
        )
        if release.job_id is None:
            Release.objects.filter(pk=release.pk).update(job=job)
            release.job = job
    return job


def start_simple(actor: Actor, app: App, action: str) -> Job:
    """Stop or start the app (proxy shows a maintenance page while stopped)."""
    kind, task = SIMPLE_JOBS[action]
    holder = locks.holder_of(app.lock_name)
    if holder is not None:
        raise DeployRefused(f"{app.name} is busy with job #{holder.pk}; try again when it ends.")
    return jobs.enqueue(kind=kind, team=app.team, actor=actor, task=task, target=app)


def start_app_exec(actor: Actor, app: App, command: str, mode: str) -> Job:
    """A one-off command in the live release; the command text is audited."""
    if app.current_release is None:
        raise DeployRefused(f"{app.name} has no live release yet: deploy first.")
    return jobs.enqueue(
        kind=JobKind.APP_EXEC,
        team=app.team,
        actor=actor,
        task=exec_in_app,
        target=app,
        params={"command": command, "mode": mode},
    )


def force_release_lock(actor: Actor, app: App) -> None:
    holder = locks.holder_of(app.lock_name)
    with transaction.atomic():
        locks.force_release(app.lock_name)
        audit.record(
            actor,
            AuditAction.APP_LOCK_RELEASE,
            team=app.team,
            target=app,
            details={"job": holder.pk if holder else None},
        )


def forget_git_host_key(actor: Actor, app: App) -> None:
    """The next fetch trusts whatever key the git host presents, and keeps it."""
    with transaction.atomic():
        App.objects.filter(pk=app.pk).update(git_host_key="")
        audit.record(actor, AuditAction.APP_GIT_HOST_KEY_FORGET, team=app.team, target=app)


def _save_roles(app: App, roles: dict[str, Any]) -> None:
    for name, spec in roles.items():
        role, _ = Role.objects.update_or_create(
            app=app, name=name, defaults={"command": spec.get("command", "")}
        )
        role.servers.set(spec.get("servers", []))
    Role.objects.filter(app=app).exclude(name__in=list(roles)).delete()


def _roles_of(app: App) -> dict[str, Any]:
    return {
        role.name: {"command": role.command, "servers": sorted(str(s) for s in role.servers.all())}
        for role in app.roles.prefetch_related("servers")
    }


def _describe(fields: dict[str, Any], roles: dict[str, Any]) -> dict[str, Any]:
    details = dict(fields)  # the password, token and build arguments were taken out already
    details["roles"] = {
        name: {
            "command": spec.get("command", ""),
            "servers": sorted(str(s) for s in spec.get("servers", [])),
        }
        for name, spec in roles.items()
    }
    return details


def start_cleanup(
    actor: Actor, server: Server, *, items: list[str], cache_days: int, volumes: list[str],
    every: bool = False,
) -> Job:  # fmt: skip
    """Docker cleanup of the items previewed (keys such as `image:sha256:…`), or (`every`, a
    schedule's) of every candidate when it runs; refused while an app on the server is
    deploying, whose images it could take."""
    refuse_while_deploying(server, "clean up")
    return jobs.enqueue(
        kind=JobKind.SERVER_CLEANUP, team=server.team, actor=actor, task=clean_up_server,
        target=server,
        params={"items": items, "every": every, "cache_days": cache_days, "volumes": volumes},
    )  # fmt: skip


def refuse_while_deploying(server: Server, what: str) -> None:
    """Work on a server that must not overlap an app's deploy there waits for its end."""
    for app in App.objects.filter(roles__servers=server).distinct():
        holder = locks.holder_of(app.lock_name)
        if holder is not None:
            raise DeployRefused(f"{app.name} is busy with job #{holder.pk} on {server.name}; "
                                f"{what} when it ends.")  # fmt: skip


def schedule_cleanup(actor: Actor, server: Server, *, schedule: str, cache_days: int) -> None:
    """Clean the server up on a schedule ("" stops it); audited."""
    existing = CleanupSchedule.objects.filter(server=server).first()
    before = audit.values_of(existing, ["schedule", "cache_days"])
    with transaction.atomic():
        if schedule:
            CleanupSchedule.objects.update_or_create(
                server=server,
                defaults={"team": server.team, "schedule": schedule, "cache_days": cache_days},
            )
        else:
            CleanupSchedule.objects.filter(server=server).delete()
        details = {"schedule": schedule or "none", "cache_days": cache_days}
        details |= audit.diff(before, {"schedule": schedule, "cache_days": cache_days})
        audit.record(actor, AuditAction.CLEANUP_SCHEDULED, team=server.team, target=server,
                     details=details)  # fmt: skip


def start_due_cleanups(now: datetime) -> list[Job]:
    """A cleanup of every candidate on each server whose schedule is due; once per tick,
    however many beats see it; a server where an app is deploying waits for the next tick."""
    started = []
    planned = CleanupSchedule.objects.select_related("server__team", "server__ssh_key")
    for due in claim_due(planned, now):
        try:
            started.append(start_cleanup(Actor.system("schedule"), due.server, items=[],
                                         cache_days=due.cache_days, volumes=[],
                                         every=True))  # fmt: skip
        except DeployRefused:  # at the next tick
            give_back(due)
    return started


@shared_task(name="deployments.start_due_cleanups")
def start_due_cleanups_now() -> int:
    return len(start_due_cleanups(timezone.now()))
