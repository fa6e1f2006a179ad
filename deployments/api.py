"""The deploy API for CI and scripts: deploy, roll back, read an app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.urls import reverse

from deployments import services
from deployments.models import App, Container, Release
from deployments.validators import validate_git_ref, validate_tag
from panel.api.auth import ApiError, actor_of, api_view, require_api
from panel.api.bodies import StrictBody, parse_body
from panel.models import Job
from panel.permissions import Action, teams_of
from panel.requests import ApiRequest


class DeployBody(StrictBody):
    tag: str = ""
    ref: str = ""


class RollbackBody(StrictBody):
    release: int | str


@api_view(("GET",))
def app_status(request: ApiRequest, name: str) -> HttpResponse:
    app = _app(request, name, Action.VIEW)
    return JsonResponse(describe(app))


@api_view(("POST",))
def app_deploy(request: ApiRequest, name: str) -> HttpResponse:
    """A tag of the image; for an app built from git, a `ref` (branch, tag or commit; empty:
    the head of the app's branch)."""
    app = _app(request, name, Action.DEPLOY)
    body = parse_body(request, DeployBody)
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


@api_view(("POST",))
def app_rollback(request: ApiRequest, name: str) -> HttpResponse:
    app = _app(request, name, Action.DEPLOY)
    wanted = parse_body(request, RollbackBody).release
    release = next(
        (
            r
            for r in Release.objects.retained(app)
            if str(r.pk) == str(wanted) or r.version == str(wanted)
        ),
        None,
    )
    if release is None:
        raise ApiError(
            404, "No retained release with that id or version; see GET /api/v1/apps/<name>."
        )
    actor = actor_of(request)
    return _start(lambda: services.start_again(actor, app, release, "rollback"))


def describe(app: App) -> dict[str, Any]:
    current = app.current_release
    running = Container.objects.filter(release=current, running=True).select_related("server")
    return {
        "name": app.name,
        "image": app.image,
        "git": {"url": app.git_url, "branch": app.git_branch} if app.git_url else None,
        "domains": app.domains,
        "stopped": app.stopped,
        "current_release": _release(current) if current else None,
        "containers": [{"server": c.server.name, "role": c.role, "name": c.name} for c in running]
        if current
        else [],
        "releases": [_release(r) for r in app.releases.all()[: app.retain_releases]],
        "retained": list(Release.objects.retained(app).values_list("pk", flat=True)),
    }


def _release(release: Release) -> dict[str, Any]:
    return {
        "id": release.pk,
        "version": release.version,
        "image": release.image,
        "commit": release.commit,
        "commit_message": release.commit_message,
        "status": release.status,
        "kind": release.kind,
        "by": release.created_by_label,
        "created_at": release.created_at.isoformat(),
        "job": release.job_id,
    }


def _app(request: ApiRequest, name: str, action: Action) -> App:
    apps = list(
        App.objects.filter(name=name, team__in=teams_of(request.user)).select_related(
            "team", "current_release"
        )
    )
    team = request.GET.get("team")
    if team:
        apps = [app for app in apps if app.team.slug == team]
    if not apps:
        raise ApiError(404, f"No app named {name!r} in your teams.")
    if len(apps) > 1:
        raise ApiError(400, f"Several of your teams have an app named {name!r}: add ?team=<slug>.")
    require_api(request, apps[0].team_id, action)
    return apps[0]


def _start(start: Callable[[], Job]) -> HttpResponse:
    try:
        job = start()
    except services.DeployRefused as refusal:
        raise ApiError(409, str(refusal)) from refusal
    return JsonResponse(
        {
            "job": job.pk,
            "release": job.params["release"],
            "version": job.params["version"],
            "status_url": reverse("api_job", args=[job.pk]),
        },
        status=202,
    )
