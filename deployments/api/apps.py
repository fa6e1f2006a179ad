"""Apps over the API: list, create, read, change, remove; their environment; deploy, roll
back, stop, start; and their containers' logs, live."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http.response import HttpResponseBase
from ninja import Field, Router, Schema
from ninja.params.functions import Query as QueryParam
from ninja.responses import Status

from deployments import link_state, logs, services
from deployments.forms import AppForm, EnvForm, app_forms, formset_problems
from deployments.models import App, Container, EnvVar, Release
from deployments.validators import validate_git_ref, validate_tag
from panel.api.auth import ApiError, actor_of, needs
from panel.api.bodies import StrictBody, valid
from panel.api.idempotency import idempotent
from panel.api.jobs import JobStarted, started
from panel.api.lookup import TEAM, by_name, in_teams, named_in_team, team_for
from panel.api.pages import paged
from panel.forms import form_data
from panel.models import Job, Team
from panel.permissions import Action
from panel.requests import ApiRequest
from servers.models import Server, SshKey

router = Router(tags=["apps"])
APPS = App.objects.select_related("team", "current_release")


class RoleBody(StrictBody):
    name: str = Field(max_length=31)
    servers: list[str] = Field(default_factory=list, max_length=50)
    command: str = Field("", max_length=1000)


class AppBody(StrictBody):
    """An app's settings, as on its page; on a change, only the fields sent change. Secrets
    (registry_password, git_token, build_args) are never read back; empty keeps them."""

    name: str | None = Field(None, max_length=40)
    image: str | None = Field(None, max_length=255)
    registry_username: str | None = Field(None, max_length=100)
    registry_password: str | None = Field(None, max_length=1000)
    domains: list[str] | None = Field(None, max_length=50)
    tls: bool | None = None
    redirect_http: bool | None = None
    container_port: int | None = Field(None, ge=1, le=65535)
    health_path: str | None = Field(None, max_length=200)
    health_interval: float | None = Field(None, ge=0.1, le=60)
    health_timeout: float | None = Field(None, ge=0.1, le=60)
    deploy_timeout: int | None = Field(None, ge=1, le=3600)
    drain_timeout: int | None = Field(None, ge=0, le=600)
    stop_timeout: int | None = Field(None, ge=0, le=600)
    retain_releases: int | None = Field(None, ge=1, le=50)
    volumes: list[str] | None = Field(None, max_length=50)
    pre_deploy_command: str | None = Field(None, max_length=1000)
    post_deploy_command: str | None = Field(None, max_length=1000)
    git_url: str | None = Field(None, max_length=500)
    git_branch: str | None = Field(None, max_length=200)
    git_token: str | None = Field(None, max_length=1000)
    git_key: str | None = Field(None, max_length=63, description="An SSH key's name")
    dockerfile: str | None = Field(None, max_length=300)
    build_context: str | None = Field(None, max_length=300)
    build_server: str | None = Field(None, max_length=63, description="A server's name")
    build_args: str | None = Field(None, max_length=64 * 1024)
    roles: list[RoleBody] | None = Field(None, max_length=20)


class ReleaseOut(Schema):
    id: int
    version: str
    image: str
    commit: str
    commit_message: str
    status: str
    kind: str
    by: str = Field(alias="created_by_label")
    created_at: datetime
    job: int | None = Field(alias="job_id")


class RoleOut(Schema):
    name: str
    servers: list[str]
    command: str


class ContainerOut(Schema):
    server: str
    role: str
    name: str


class GitOut(Schema):
    url: str
    branch: str


class AppSummary(Schema):
    name: str
    team: str
    image: str
    domains: list[str]
    stopped: bool
    version: str | None = Field(description="The live release's")
    created_at: datetime

    @staticmethod
    def resolve_team(app: App) -> str:
        return app.team.slug

    @staticmethod
    def resolve_version(app: App) -> str | None:
        return app.current_release.version if app.current_release else None


class AppOut(AppSummary):
    git: GitOut | None
    tls: bool
    container_port: int
    health_path: str
    retain_releases: int
    roles: list[RoleOut]
    current_release: ReleaseOut | None
    containers: list[ContainerOut]
    releases: list[ReleaseOut]
    retained: list[int] = Field(description="Releases a rollback can go back to")

    @staticmethod
    def resolve_git(app: App) -> dict[str, str] | None:
        return {"url": app.git_url, "branch": app.git_branch} if app.git_url else None

    @staticmethod
    def resolve_roles(app: App) -> list[dict[str, Any]]:
        return [
            {"name": r.name, "servers": [s.name for s in r.servers.all()], "command": r.command}
            for r in app.roles.prefetch_related("servers")
        ]

    @staticmethod
    def resolve_containers(app: App) -> list[dict[str, str]]:
        if app.current_release is None:
            return []
        running = Container.objects.filter(release=app.current_release, running=True)
        return [
            {"server": c.server.name, "role": c.role, "name": c.name}
            for c in running.select_related("server")
        ]

    @staticmethod
    def resolve_releases(app: App) -> list[Release]:
        return list(app.releases.all()[: app.retain_releases])

    @staticmethod
    def resolve_retained(app: App) -> list[int]:
        return list(Release.objects.retained(app).values_list("pk", flat=True))


class EnvOut(Schema):
    key: str
    role: str
    secret: bool
    value: str | None = Field(description="Shown for plain variables; null for secrets")
    for_containers: bool
    for_build: bool


class EnvBody(StrictBody):
    value: str = Field(max_length=256 * 1024)
    secret: bool = False
    role: str = Field("", max_length=31, description="Empty: every role")
    use: Literal["containers", "build", "both"] = "containers"


class DeployBody(StrictBody):
    tag: str = Field("", max_length=128)
    ref: str = Field("", max_length=255)


class RollbackBody(StrictBody):
    release: int | str = Field(description="A retained release's id or version")


@router.get("/apps", response=list[AppSummary], openapi_extra=needs(Action.VIEW))
@paged()
def app_list(request: ApiRequest, team: str | None = TEAM) -> Any:
    return in_teams(request, APPS, team)


@router.post("/apps", response={201: AppOut}, openapi_extra=needs(Action.MANAGE_APPS))
def app_create(request: ApiRequest, body: AppBody, team: str | None = TEAM) -> Any:
    into = team_for(request, team, Action.MANAGE_APPS)
    form, roles = _forms(into, None, body)
    app = services.create_app(actor_of(request), into, form.app_fields(), roles.roles())
    return Status(201, app)


@router.get("/apps/{name}", response=AppOut, openapi_extra=needs(Action.VIEW))
def app_read(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    return by_name(request, APPS, name, Action.VIEW, team)


@router.patch("/apps/{name}", response=AppOut, openapi_extra=needs(Action.MANAGE_APPS))
def app_change(request: ApiRequest, name: str, body: AppBody, team: str | None = TEAM) -> Any:
    app = by_name(request, APPS, name, Action.MANAGE_APPS, team)
    form, roles = _forms(app.team, app, body)
    services.update_app(actor_of(request), app, form.app_fields(), roles.roles())
    return APPS.get(pk=app.pk)


@router.delete("/apps/{name}", response={202: JobStarted}, openapi_extra=needs(Action.MANAGE_APPS))
@idempotent
def app_remove(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    """Take the app off its servers (route, containers, env files), then out of the panel."""
    app = by_name(request, APPS, name, Action.MANAGE_APPS, team)
    return _start(lambda: services.start_remove(actor_of(request), app))


@router.get("/apps/{name}/env", response=list[EnvOut], openapi_extra=needs(Action.VIEW))
def env_list(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    app = by_name(request, APPS, name, Action.VIEW, team)
    return [
        {**_env_fields(variable), "value": None if variable.secret else variable.value.reveal()}
        for variable in EnvVar.objects.filter(app=app).order_by("role", "key")
    ]


@router.put("/apps/{name}/env/{key}", response={204: None}, openapi_extra=needs(Action.MANAGE_APPS))
def env_set(
    request: ApiRequest, name: str, key: str, body: EnvBody, team: str | None = TEAM
) -> Any:
    """Set a variable; it applies from the next deploy."""
    app = by_name(request, APPS, name, Action.MANAGE_APPS, team)
    data = valid(EnvForm(form_data({"key": key, **body.model_dump()})))
    if reason := link_state.linked_reason(app, data["key"]):
        raise ApiError(409, reason)
    services.set_env(
        actor_of(request), app, data["key"], data["value"], secret=data["secret"],
        role=data["role"], for_containers=data["for_containers"], for_build=data["for_build"],
    )  # fmt: skip
    return Status(204, None)


@router.delete(
    "/apps/{name}/env/{key}", response={204: None}, openapi_extra=needs(Action.MANAGE_APPS)
)
def env_unset(
    request: ApiRequest,
    name: str,
    key: str,
    role: str = QueryParam("", max_length=31),
    team: str | None = TEAM,
) -> Any:
    app = by_name(request, APPS, name, Action.MANAGE_APPS, team)
    variable = EnvVar.objects.filter(app=app, key=key, role=role).first()
    if variable is None:
        raise ApiError(404, f"{app.name} has no variable {key!r} for that role.")
    if not role and (reason := link_state.linked_reason(app, key)):
        raise ApiError(409, reason)
    services.delete_env(actor_of(request), variable)
    return Status(204, None)


@router.post("/apps/{name}/deploy", response={202: JobStarted}, openapi_extra=needs(Action.DEPLOY))
@idempotent
def app_deploy(request: ApiRequest, name: str, body: DeployBody, team: str | None = TEAM) -> Any:
    """A tag of the image; for an app built from git, a `ref` (branch, tag or commit; empty:
    the head of the app's branch)."""
    app = by_name(request, APPS, name, Action.DEPLOY, team)
    if app.git_url:
        if body.tag:
            raise ApiError(400, "tag: this app is built from git; send a ref.", {"tag": "unused"})
        field, version, validate = "ref", body.ref, validate_git_ref
    else:
        if body.ref:
            raise ApiError(400, "ref: this app deploys an image; send a tag.", {"ref": "unused"})
        field, version, validate = "tag", body.tag or "latest", validate_tag
    try:
        if version:
            validate(version)
    except ValidationError as invalid:
        problem = " ".join(invalid.messages)
        raise ApiError(400, f"{field}: {problem}", {field: problem}) from invalid
    actor = actor_of(request)
    return _start(lambda: services.start_deploy(actor, app, version=version))


@router.post(
    "/apps/{name}/rollback", response={202: JobStarted}, openapi_extra=needs(Action.DEPLOY)
)
@idempotent
def app_rollback(
    request: ApiRequest, name: str, body: RollbackBody, team: str | None = TEAM
) -> Any:
    app = by_name(request, APPS, name, Action.DEPLOY, team)
    wanted = str(body.release)
    release = next(
        (r for r in Release.objects.retained(app) if wanted in (str(r.pk), r.version)), None
    )
    if release is None:
        raise ApiError(
            404, "No retained release with that id or version; see GET /api/v1/apps/<name>."
        )
    actor = actor_of(request)
    return _start(lambda: services.start_again(actor, app, release, "rollback"))


@router.post("/apps/{name}/stop", response={202: JobStarted}, openapi_extra=needs(Action.DEPLOY))
@idempotent
def app_stop(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    """Stop its containers; the proxy shows a maintenance page meanwhile."""
    app = by_name(request, APPS, name, Action.DEPLOY, team)
    return _start(lambda: services.start_simple(actor_of(request), app, "stop"))


@router.post("/apps/{name}/start", response={202: JobStarted}, openapi_extra=needs(Action.DEPLOY))
@idempotent
def app_start(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    app = by_name(request, APPS, name, Action.DEPLOY, team)
    return _start(lambda: services.start_simple(actor_of(request), app, "start"))


@router.get(
    "/apps/{name}/logs",
    openapi_extra=needs(Action.VIEW, streams=("text/event-stream",)),
)
def app_logs(request: ApiRequest, name: str, team: str | None = TEAM) -> HttpResponseBase:
    """The running containers' last 100 lines, then new ones live, as server-sent events
    (`event: line`, `data:` JSON with `text` and `source`)."""
    app = by_name(request, APPS, name, Action.VIEW, team)
    return logs.streaming(logs.app_sources(app), render=logs.as_json)


def _forms(team: Team, app: App | None, body: AppBody) -> tuple[AppForm, Any]:
    """The page's form and role formset, given the app's values with the body's over them."""
    sent = body.model_dump(exclude_unset=True)
    roles_sent = sent.pop("roles", None)
    for field, model in (("git_key", SshKey), ("build_server", Server)):
        if sent.get(field):
            sent[field] = named_in_team(team.pk, model, field, sent[field]).pk
    if app is None and not {"name", "image"} <= sent.keys() - {None}:
        raise ApiError(400, "name and image are needed.", {"name": "required"})
    roles = None
    if roles_sent is not None:
        roles = [
            {
                **role,
                "servers": [named_in_team(team.pk, Server, "roles", s).pk for s in role["servers"]],
            }
            for role in roles_sent
        ]
    form, formset = app_forms(team, app, sent, roles)
    valid(form)
    if not formset.is_valid():
        problem = formset_problems(formset) or "not valid"
        raise ApiError(400, f"roles: {problem}", {"roles": problem})
    return form, formset


def _env_fields(variable: EnvVar) -> dict[str, Any]:
    return {
        "key": variable.key,
        "role": variable.role,
        "secret": variable.secret,
        "for_containers": variable.for_containers,
        "for_build": variable.for_build,
    }


def _start(start: Callable[[], Job]) -> Status[JobStarted]:
    try:
        return started(start)
    except services.DeployRefused as refusal:
        raise ApiError(409, str(refusal)) from refusal
