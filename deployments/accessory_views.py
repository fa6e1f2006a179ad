"""Accessory pages: the list, adding one, its page (who reaches it, its links, what it is
doing), its jobs (boot, reboot, start, stop, restart, removal), links and a command in it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from backups.forms import BackupNowForm, PolicyForm, UpgradeForm
from backups.models import Backup, ScratchCopy, Upgrade, Verification
from backups.views import policies_of
from deployments import accessory_reach
from deployments import accessory_services as services
from deployments.accessory_forms import (
    AccessoryExecForm,
    AccessoryFileForm,
    AccessoryForm,
    LinkForm,
    RemoveAccessoryForm,
    UnlinkForm,
)
from deployments.accessory_kinds import KINDS
from deployments.commands import accessories as accessory_commands
from deployments.models import Accessory, AccessoryLink
from deployments.operations.accessories import files_of
from deployments.operations.accessory_details import details
from deployments.services import DeployRefused
from panel.models import Job
from panel.permissions import Action, get_for, require
from panel.requests import actor_of, team_of

ACCESSORIES = Accessory.objects.select_related("team", "server")


@login_required
def accessory_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    listed = ACCESSORIES.filter(team=team)
    return render(request, "deployments/accessory_list.html", {"accessories": listed})


@login_required
def accessory_new(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_APPS)
    form = AccessoryForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        accessory = services.create_accessory(
            actor_of(request),
            team,
            name=data["name"],
            server=data["server"],
            kind=data["kind"],
            image=data["image"],
            publish=data["publish"],
            port=data["port"],
            ready_command=data["ready_command"],
            command=data["command"],
            variables=data["variables"],
            volumes=data["volumes"],
        )
        messages.success(request, f"{accessory.name} is added with a generated password; boot it.")
        return redirect("accessory_detail", accessory_id=accessory.pk)
    return render(request, "deployments/accessory_form.html", {"form": form})


@login_required
def accessory_detail(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id)
    kind = KINDS.get(accessory.kind, KINDS["custom"])
    jobs = Job.objects.filter(target_type="deployments.accessory", target_id=str(accessory.pk))
    links = accessory.links.select_related("app__current_release")
    backed_up = bool(kind.dump or accessory.volumes)  # its dump, or its volumes' files
    context = {
        "accessory": accessory,
        "kind": kind,
        "container": accessory_commands.container(accessory.name),
        "reach": accessory_reach.reach(
            accessory.name, accessory.server.name, accessory.port, list(accessory.publish)
        ),
        "links": [
            (link, _needs_redeploy(link), UnlinkForm(database=link.database)) for link in links
        ],
        "link_form": LinkForm(accessory=accessory, kind=kind) if kind.engine else None,
        "exec_form": AccessoryExecForm(),
        "files": [
            (path, secret, len(content.encode()), "" if secret else content)
            for path, (content, secret) in sorted(files_of(accessory).items())
        ],
        "file_form": AccessoryFileForm(),
        "backup_form": BackupNowForm(team_id=accessory.team_id) if backed_up else None,
        "backups": Backup.objects.filter(accessory=accessory).select_related("repository")[:5],
        "policies": policies_of(accessory) if backed_up else [],
        "policy_form": PolicyForm(team_id=accessory.team_id),
        "scratch": ScratchCopy.objects.filter(accessory=accessory)
        .select_related("backup__repository")
        .first(),
        "verification": Verification.objects.filter(accessory=accessory).first(),
        "upgrade_form": UpgradeForm(team_id=accessory.team_id),
        "upgrades": Upgrade.objects.filter(accessory=accessory)[:3],
        "jobs": jobs[:10],
        "remove_form": RemoveAccessoryForm(accessory=accessory),
    }
    return render(request, "deployments/accessory_detail.html", context)


@login_required
def accessory_status(request: HttpRequest, accessory_id: str) -> HttpResponse:
    """What it is doing now, read from its server (loaded into its page)."""
    accessory = get_for(request.user, ACCESSORIES.select_related("server__ssh_key"), accessory_id)
    now = asyncio.run(details(accessory)) if accessory.server.is_trusted else None
    return render(
        request, "deployments/_accessory_status.html", {"accessory": accessory, "now": now}
    )


@login_required
@require_POST
def accessory_action(request: HttpRequest, accessory_id: str, action: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id, Action.MANAGE_APPS)
    with_data = False
    if action == "remove":
        form = RemoveAccessoryForm(request.POST, accessory=accessory)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for e in form.errors.get("confirm_name", [])))
            return redirect("accessory_detail", accessory_id=accessory.pk)
        with_data = form.cleaned_data["with_data"]
        if with_data:
            require(request.user, accessory.team_id, Action.REMOVE_DATA)
    return _job(
        request,
        accessory,
        lambda: services.start_accessory_job(
            actor_of(request), accessory, action, with_data=with_data
        ),
    )


@login_required
@require_POST
def accessory_link(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id, Action.MANAGE_APPS)
    kind = KINDS.get(accessory.kind, KINDS["custom"])
    form = LinkForm(request.POST, accessory=accessory, kind=kind)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    data = form.cleaned_data
    return _job(
        request,
        accessory,
        lambda: services.start_link(
            actor_of(request),
            accessory,
            data["app"],
            variable=data["variable"],
            database=data["database"],
            user=data["user"],
        ),
    )


@login_required
@require_POST
def accessory_unlink(request: HttpRequest, accessory_id: str, link_id: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id, Action.MANAGE_APPS)
    link = get_object_or_404(
        AccessoryLink.objects.select_related("app"), pk=link_id, accessory=accessory
    )
    form = UnlinkForm(request.POST, database=link.database)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    drop = form.cleaned_data["drop"]
    if drop:
        require(request.user, accessory.team_id, Action.REMOVE_DATA)
    return _job(
        request, accessory, lambda: services.start_unlink(actor_of(request), link, drop=drop)
    )


@login_required
@require_POST
def accessory_rotate(request: HttpRequest, accessory_id: str, link_id: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id, Action.MANAGE_SECRETS)
    link = get_object_or_404(
        AccessoryLink.objects.select_related("app", "accessory__team"),
        pk=link_id,
        accessory=accessory,
    )
    return _job(request, accessory, lambda: services.start_rotation(actor_of(request), link))


@login_required
@require_POST
def accessory_file(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id, Action.MANAGE_APPS)
    form = AccessoryFileForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
    else:
        data = form.cleaned_data
        services.set_file(
            actor_of(request), accessory, data["path"], data["content"], secret=data["secret"]
        )
        messages.success(request, f"{data['path']} is kept; reboot {accessory.name} to apply it.")
    return redirect("accessory_detail", accessory_id=accessory.pk)


@login_required
@require_POST
def accessory_file_remove(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id, Action.MANAGE_APPS)
    path = request.POST.get("path", "")
    if path in files_of(accessory):
        services.remove_file(actor_of(request), accessory, path)
        messages.success(request, f"{path} is removed; reboot {accessory.name} to apply it.")
    return redirect("accessory_detail", accessory_id=accessory.pk)


@login_required
@require_POST
def accessory_password(request: HttpRequest, accessory_id: str) -> HttpResponse:
    """Its generated password on a page of its own, not cached and not kept in the session."""
    accessory = get_for(request.user, ACCESSORIES, accessory_id, Action.MANAGE_SECRETS)
    password = services.show_password(actor_of(request), accessory)
    response = render(
        request,
        "deployments/accessory_password.html",
        {"accessory": accessory, "kind": KINDS.get(accessory.kind, KINDS["custom"]),
         "password": password},
    )  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def accessory_exec(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id, Action.SERVER_EXEC)
    form = AccessoryExecForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    command = form.cleaned_data["command"]
    return _job(
        request, accessory, lambda: services.start_exec(actor_of(request), accessory, command)
    )


def _job(request: HttpRequest, accessory: Accessory, start: Callable[[], Job]) -> HttpResponse:
    try:
        job = start()
    except DeployRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    return redirect("job_detail", job_id=job.pk)


def _needs_redeploy(link: AccessoryLink) -> bool:
    release = link.app.current_release
    return release is None or release.created_at < link.created_at


def _errors(form: Form) -> str:
    return " ".join(str(message) for found in form.errors.values() for message in found)
