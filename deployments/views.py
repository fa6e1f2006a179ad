from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from deployments import git, link_state, services
from deployments.forms import (
    AppExecForm,
    AppForm,
    DeployForm,
    EnvForm,
    GitDeployForm,
    role_formset,
)
from deployments.models import App, Container, EnvVar, Release, ReleaseStatus
from deployments.operations.preview import preview
from deployments.spec import new_nonce
from panel import pending_secrets
from panel.jobs import locks
from panel.models import Job
from panel.pages import page_of
from panel.permissions import Action, get_for, require
from panel.requests import actor_of, team_of
from servers.models import Server

APPS = App.objects.select_related("team", "current_release")


@login_required
def app_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    search = request.GET.get("q", "").strip()
    matching = APPS.filter(team=team, name__icontains=search).order_by("name")
    servers = Prefetch("roles__servers", queryset=Server.objects.only("id", "name"))
    listing = page_of(request, matching.prefetch_related(servers))
    apps = list(listing["page"])
    live = set(
        Container.objects.filter(release__app__in=apps, running=True)
        .filter(release__status=ReleaseStatus.LIVE)
        .values_list("release__app_id", "server_id", "role")
    )
    rows = [
        (
            app,
            [
                (role.name, server, (app.pk, server.pk, role.name) in live)
                for role in app.roles.all()
                for server in role.servers.all()
            ],
        )
        for app in apps
    ]
    return render(request, "deployments/app_list.html", {"apps": rows, "search": search, **listing})


@login_required
def app_new(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_APPS)
    data, kept = _with_kept_secrets(request, "app:new")
    form = AppForm(data, team=team, kept=kept)
    roles = role_formset(data, team, None)
    if request.method == "POST" and form.is_valid() and roles.is_valid():
        app = services.create_app(actor_of(request), team, form.app_fields(), roles.roles())
        pending_secrets.forget(request, "app:new")
        messages.success(request, f"{app.name} is created. Set its environment, then deploy.")
        return redirect("app_detail", app_id=app.pk)
    context = {"form": form, "roles": roles, "app": None}
    return render(request, "deployments/app_form.html", context)


@login_required
def app_edit(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.MANAGE_APPS)
    data, kept = _with_kept_secrets(request, f"app:{app.pk}")
    form = AppForm(data, team=app.team, app=app, kept=kept)
    roles = role_formset(data, app.team, app)
    if request.method == "POST" and form.is_valid() and roles.is_valid():
        services.update_app(actor_of(request), app, form.app_fields(), roles.roles())
        pending_secrets.forget(request, f"app:{app.pk}")
        messages.success(request, f"{app.name} is saved; the next deploy uses these settings.")
        return redirect("app_detail", app_id=app.pk)
    context = {"form": form, "roles": roles, "app": app}
    return render(request, "deployments/app_form.html", context)


@login_required
def app_detail(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id)
    releases = list(app.releases.select_related("job")[: app.retain_releases + 5])
    retained = set(Release.objects.retained(app).values_list("pk", flat=True))
    live = (
        Container.objects.filter(release=app.current_release, running=True).select_related("server")
        if app.current_release
        else Container.objects.none()
    )
    return render(
        request,
        "deployments/app_detail.html",
        {
            "app": app,
            "releases": releases,
            "retained": retained,
            "live": live,
            "roles": app.roles.prefetch_related("servers"),
            "lock_holder": locks.holder_of(app.lock_name),
            "git_host_fingerprints": git.host_key_fingerprints(app.git_host_key),
            "deploy_form": GitDeployForm()
            if app.git_url
            else DeployForm(
                initial={"version": app.current_release.version if app.current_release else ""}
            ),
        },
    )


@login_required
@require_POST
def app_delete(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.MANAGE_APPS)
    return _follow(request, app, lambda: services.start_remove(actor_of(request), app))


@login_required
@never_cache
def app_env(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id)
    form = EnvForm(request.POST or None)
    if request.method == "POST":
        require(request.user, app.team_id, Action.MANAGE_APPS)
        if form.is_valid() and (linked := link_state.linked_reason(app, form.cleaned_data["key"])):
            form.add_error("key", linked)
        if form.is_valid():
            data = form.cleaned_data
            services.set_env(
                actor_of(request),
                app,
                data["key"],
                data["value"],
                secret=data["secret"],
                role=data["role"],
                for_containers=data["for_containers"],
                for_build=data["for_build"],
            )
            messages.success(request, f"{data['key']} is set; it applies from the next deploy.")
            return redirect("app_env", app_id=app.pk)
    links = {
        link.variable: link.accessory for link in app.accessory_links.select_related("accessory")
    }
    # Each variable with the accessory whose link gives it (changed only there), if any.
    variables = [
        (variable, None if variable.role else links.get(variable.key))
        for variable in EnvVar.objects.filter(app=app)
    ]
    return render(
        request, "deployments/app_env.html", {"app": app, "form": form, "variables": variables}
    )


@login_required
@require_POST
def env_delete(request: HttpRequest, app_id: str, env_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.MANAGE_APPS)
    variable = get_object_or_404(EnvVar, app=app, pk=env_id)
    if variable.role == "" and (linked := link_state.linked_reason(app, variable.key)):
        messages.error(request, linked)
        return redirect("app_env", app_id=app.pk)
    services.delete_env(actor_of(request), variable)
    messages.success(request, f"{variable.key} is removed; it goes away with the next deploy.")
    return redirect("app_env", app_id=app.pk)


@login_required
def app_plan(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id)
    # An app built from git has a plan at once: for its branch head, or the ref asked for; an
    # image app's plan is for the tag asked for, else for its live release's tag.
    live = {"version": app.current_release.version} if app.current_release else None
    form = GitDeployForm(request.GET) if app.git_url else DeployForm(request.GET or live)
    shown = None
    if form.is_valid():
        shown = preview(app, form.cleaned_data["version"], new_nonce())
    return render(
        request, "deployments/app_plan.html", {"app": app, "form": form, "preview": shown}
    )


@login_required
@require_POST
def app_deploy(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.DEPLOY)
    form = GitDeployForm(request.POST) if app.git_url else DeployForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("version", [])))
        return redirect("app_detail", app_id=app.pk)
    actor, data = actor_of(request), form.cleaned_data
    return _follow(
        request,
        app,
        lambda: services.start_deploy(actor, app, version=data["version"], nonce=data["plan"]),
    )


@login_required
@require_POST
def app_rollback(request: HttpRequest, app_id: str, release_id: int) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.DEPLOY)
    release = get_object_or_404(Release, app=app, pk=release_id)
    actor = actor_of(request)
    return _follow(request, app, lambda: services.start_again(actor, app, release, "rollback"))


@login_required
@require_POST
def app_redeploy(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.DEPLOY)
    if app.current_release is None:
        messages.error(request, "Nothing is live yet: deploy a version first.")
        return redirect("app_detail", app_id=app.pk)
    kind = "restart" if request.POST.get("restart") else "redeploy"
    actor, live = actor_of(request), app.current_release
    return _follow(request, app, lambda: services.start_again(actor, app, live, kind))


@login_required
@require_POST
def app_stop_start(request: HttpRequest, app_id: str, action: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.DEPLOY)
    if action not in ("stop", "start"):
        raise Http404("No such action.")
    return _follow(request, app, lambda: services.start_simple(actor_of(request), app, action))


@login_required
def app_exec(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.APP_EXEC)
    form = AppExecForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.start_app_exec(
                actor_of(request), app, form.cleaned_data["command"], form.cleaned_data["mode"]
            )
        except services.DeployRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            return redirect("job_detail", job_id=job.pk)
    return render(request, "deployments/app_exec.html", {"app": app, "form": form})


@login_required
@require_POST
def app_role_redeploy(request: HttpRequest, app_id: str, role: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.DEPLOY)
    return _follow(request, app, lambda: services.start_role_redeploy(actor_of(request), app, role))


@login_required
@require_POST
def app_forget_git_host_key(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.MANAGE_APPS)
    services.forget_git_host_key(actor_of(request), app)
    messages.success(request, "The git host's key is forgotten; the next deploy trusts its key.")
    return redirect("app_detail", app_id=app.pk)


@login_required
@require_POST
def app_release_lock(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.RELEASE_LOCK)
    services.force_release_lock(actor_of(request), app)
    messages.success(request, f"The deploy lock of {app.name} is released.")
    return redirect("app_detail", app_id=app.pk)


def _with_kept_secrets(request: HttpRequest, form: str) -> tuple[QueryDict | None, set[str]]:
    """A POST's data with the secrets typed into an earlier, refused submit of this form."""
    if request.method != "POST":
        return None, set()
    return pending_secrets.carry(request, form, AppForm.SECRET_FIELDS)


def _follow(request: HttpRequest, app: App, start: Callable[[], Job]) -> HttpResponse:
    """The new job's page, or back to the app with the reason it was refused."""
    try:
        job = start()
    except services.DeployRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("app_detail", app_id=app.pk)
    return redirect("job_detail", job_id=job.pk)
