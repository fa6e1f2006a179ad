"""Every write to apps, env and releases (audited), and the starting of deploy jobs."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from deployments import git
from deployments.models import App, EnvVar, Release, Role
from panel import audit
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs import services as jobs
from panel.models import Job, Team
from panel.sensitive import Sensitive

DEPLOY_KINDS = ("deploy", "redeploy", "rollback", "restart")


class DeployRefused(Exception):
    """A deploy that cannot start; the message says why in plain words."""


def create_app(actor: Actor, team: Team, fields: dict[str, Any], roles: dict[str, Any]) -> App:
    password = fields.pop("registry_password", "")
    token = fields.pop("git_token", "")
    build_args = fields.pop("build_args", "")
    with transaction.atomic():
        app = App(team=team, **fields)
        app.registry_password = password or ""
        app.git_token = token or ""
        app.build_args = build_args or ""
        app.save()
        _save_roles(app, roles)
        audit.record(actor, "app.create", team=team, target=app, details=_describe(fields, roles))
    return app


def update_app(actor: Actor, app: App, fields: dict[str, Any], roles: dict[str, Any]) -> App:
    password = fields.pop("registry_password", "")
    token = fields.pop("git_token", "")
    build_args = fields.pop("build_args", "")
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
        audit.record(actor, "app.update", team=app.team, target=app, details=details)
    return app


def start_remove(actor: Actor, app: App) -> Job:
    """Take the app off its servers (route, containers, env files), then out of the panel."""
    from deployments.tasks import remove_app

    holder = locks.holder_of(app.lock_name)
    if holder is not None:
        raise DeployRefused(f"{app.name} is busy with job #{holder.pk}; try again when it ends.")
    return jobs.enqueue(kind="app.remove", team=app.team, actor=actor, task=remove_app, target=app)


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
        variable = existing or EnvVar(team=app.team, app=app, role=role, key=key)
        variable.value = Sensitive(value)
        variable.secret = secret
        variable.for_containers = for_containers
        variable.for_build = for_build and not role
        variable.save()
        shown = "[REDACTED]" if secret else value
        audit.record(
            actor,
            "app.env.set",
            team=app.team,
            target=app,
            details={
                "key": key,
                "role": role or "all",
                "secret": secret,
                "shown": shown,
                "for": variable.uses,
            },
        )


def delete_env(actor: Actor, variable: EnvVar) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            "app.env.delete",
            team=variable.team,
            target=variable.app,
            details={"key": variable.key, "role": variable.role or "all"},
        )
        variable.delete()


def env_for_role(app: App, role: str) -> dict[str, Sensitive[str]]:
    """Values for one role: app-wide first, then the role's own overrides."""
    values: dict[str, Sensitive[str]] = {}
    variables = sorted(app.env.all(), key=lambda v: (v.role != "", v.key))
    for variable in variables:
        if variable.for_containers and variable.role in ("", role):
            values[variable.key] = variable.value
    return values


def build_secrets(app: App) -> dict[str, Sensitive[str]]:
    return {v.key: v.value for v in app.env.filter(role="", for_build=True).order_by("key")}


def start_role_redeploy(actor: Actor, app: App, role: str) -> Job:
    """Redeploy one role alone with the live release (new containers, health-gated)."""
    if app.current_release is None:
        raise DeployRefused(f"{app.name} has no live release to redeploy.")
    if not Role.objects.filter(app=app, name=role, servers__isnull=False).exists():
        raise DeployRefused(f"{app.name} has no role {role!r} with servers.")
    return start_deploy(
        actor,
        app,
        version=app.current_release.version,
        kind="redeploy",
        release=app.current_release,
        roles=[role],
    )


def start_deploy(
    actor: Actor,
    app: App,
    *,
    version: str,
    kind: str = "deploy",
    release: Release | None = None,
    roles: list[str] | None = None,
) -> Job:
    """Record the release and queue its deploy; refuse while another deploy holds the app."""
    from deployments.tasks import deploy_app

    holder = locks.holder_of(app.lock_name)
    if holder is not None:
        raise DeployRefused(
            f"{app.name} is being deployed by job #{holder.pk} ({holder.actor_label}); "
            "wait for it to finish or cancel it."
        )
    if not Role.objects.filter(app=app, servers__isnull=False).exists():
        raise DeployRefused(f"{app.name} has no servers yet: give its roles servers first.")
    with transaction.atomic():
        if release is None:
            release = Release.objects.create(
                app=app,
                version=version,
                image=f"{app.image}:{version}",
                kind=kind,
                created_by=actor.user,
                created_by_label=actor.label,
            )
        job = jobs.enqueue(
            kind=f"app.{kind}",
            team=app.team,
            actor=actor,
            task=deploy_app,
            target=app,
            params={
                "release": release.pk,
                "kind": kind,
                "version": release.version,
                **({"roles": roles} if roles else {}),
            },
        )
        if release.job_id is None:
            release.job = job
            release.save(update_fields=["job"])
    return job


def start_simple(actor: Actor, app: App, action: str) -> Job:
    """Stop or start the app (proxy shows a maintenance page while stopped)."""
    from deployments.tasks import start_app, stop_app

    task = {"stop": stop_app, "start": start_app}[action]
    holder = locks.holder_of(app.lock_name)
    if holder is not None:
        raise DeployRefused(f"{app.name} is busy with job #{holder.pk}; try again when it ends.")
    return jobs.enqueue(kind=f"app.{action}", team=app.team, actor=actor, task=task, target=app)


def start_app_exec(actor: Actor, app: App, command: str, mode: str) -> Job:
    """A one-off command in the live release; the command text is audited."""
    from deployments.tasks import exec_in_app

    if app.current_release is None:
        raise DeployRefused(f"{app.name} has no live release yet: deploy first.")
    return jobs.enqueue(
        kind="app.exec",
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
            "app.lock.release",
            team=app.team,
            target=app,
            details={"job": holder.pk if holder else None},
        )


def trust_git_host_key(actor: Actor, app: App, known_hosts: str) -> None:
    """Trust on first use, per app: the key ssh met on the first fetch is required after."""
    with transaction.atomic():
        if App.objects.filter(pk=app.pk, git_host_key="").update(git_host_key=known_hosts):
            audit.record(
                actor,
                "app.git_host_key.trust",
                team=app.team,
                target=app,
                details={"fingerprints": ", ".join(git.host_key_fingerprints(known_hosts))},
            )
    app.git_host_key = known_hosts


def forget_git_host_key(actor: Actor, app: App) -> None:
    """The next fetch trusts whatever key the git host presents, and keeps it."""
    with transaction.atomic():
        App.objects.filter(pk=app.pk).update(git_host_key="")
        audit.record(actor, "app.git_host_key.forget", team=app.team, target=app)


def _save_roles(app: App, roles: dict[str, Any]) -> None:
    for name, spec in roles.items():
        role, _ = Role.objects.update_or_create(
            app=app, name=name, defaults={"command": spec.get("command", "")}
        )
        role.servers.set(spec.get("servers", []))
    Role.objects.filter(app=app).exclude(name__in=list(roles)).delete()


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
