"""Accessory pages: the list, adding one, and its page with boot, reboot and removal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments import services
from deployments.accessory_forms import AccessoryForm, RemoveAccessoryForm
from deployments.accessory_kinds import KINDS
from deployments.commands import accessories as accessory_commands
from deployments.models import Accessory
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
        )
        messages.success(request, f"{accessory.name} is added with a generated password; boot it.")
        return redirect("accessory_detail", accessory_id=accessory.pk)
    return render(request, "deployments/accessory_form.html", {"form": form})


@login_required
def accessory_detail(request: HttpRequest, accessory_id: str) -> HttpResponse:
    accessory = get_for(request.user, ACCESSORIES, accessory_id)
    jobs = Job.objects.filter(target_type="deployments.accessory", target_id=str(accessory.pk))
    context = {
        "accessory": accessory,
        "kind": KINDS.get(accessory.kind, KINDS["custom"]),
        "container": accessory_commands.container(accessory.name),
        "jobs": jobs[:10],
        "remove_form": RemoveAccessoryForm(accessory=accessory),
    }
    return render(request, "deployments/accessory_detail.html", context)


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
    try:
        job = services.start_accessory_job(
            actor_of(request), accessory, action, with_data=with_data
        )
    except services.DeployRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("accessory_detail", accessory_id=accessory.pk)
    return redirect("job_detail", job_id=job.pk)
