"""A server's packages and reboots: the last check for updates (what apt would upgrade,
which are security updates, which can restart Docker or SSH), the upgrade and its exact
commands, and the reboot with what it takes down and what must run again after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments import upkeep_services
from deployments.models import UpgradeWindow
from deployments.reboot_plans import back_checks, only_web_server, plan_reboot
from deployments.services import DeployRefused
from deployments.spec import host_of
from deployments.upkeep_forms import UpgradeWindowForm
from deployments.upkeep_services import REBOOT_CHOICES
from monitoring.models import Alert
from panel.forms import errors_in_words
from panel.models import Job
from panel.permissions import Action, get_for
from panel.requests import actor_of
from panel.schedules import in_words
from servers import services as server_services
from servers.models import Server, ServerUpdates
from servers.os_plans import SCOPES, chosen, plan_upgrade
from servers.updates import from_json


@login_required
def server_updates(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team", "ssh_key"), server_id)
    stored = ServerUpdates.objects.filter(server=server).first()
    found = from_json(stored.report) if stored else None
    context: dict[str, Any] = {"server": server, "stored": stored, "found": found, "scopes": [],
               "reboot_choices": REBOOT_CHOICES}  # fmt: skip
    if found is not None and found.supported:
        context["scopes"] = [
            {"value": scope, "label": label, "count": len(chosen(found, scope)),
             "commands": plan_upgrade(host_of(server), found, scope).commands()}
            for scope, label in SCOPES.items()
        ]  # fmt: skip
        context["reboot_commands"] = plan_reboot(server, found.privilege).commands()
        context["risky"] = [p for p in found.packages if p.risk]
    context["alone"] = only_web_server(server)
    context["back"] = back_checks(server)
    context["open_alerts"] = Alert.objects.filter(server=server, resolved_at=None)
    window = UpgradeWindow.objects.filter(server=server).first()
    context["window"], context["window_words"] = window, in_words(window.schedule) if window else ""
    context["window_form"] = UpgradeWindowForm(
        initial={"schedule": window.schedule, "scope": window.scope, "reboot": window.reboot}
        if window else None
    )  # fmt: skip
    return render(request, "deployments/server_updates.html", context)


@login_required
@require_POST
def server_updates_check(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.CHECK_SERVER)  # fmt: skip
    job = server_services.start_updates_check(actor_of(request), server)
    return redirect("job_detail", job_id=job.pk)


@login_required
@require_POST
def server_upgrade(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    return _started(request, server, lambda: upkeep_services.start_upgrade(
        actor_of(request), server, scope=request.POST.get("scope", ""),
        reboot=request.POST.get("reboot", ""), checked_at=request.POST.get("checked_at", ""),
    ))  # fmt: skip


@login_required
@require_POST
def server_reboot(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    only_if_required = bool(request.POST.get("only_if_required"))
    return _started(request, server, lambda: upkeep_services.start_reboot(
        actor_of(request), server, only_if_required=only_if_required
    ))  # fmt: skip


@login_required
@require_POST
def server_upgrade_window(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    form = UpgradeWindowForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_in_words(form))
        return redirect("server_updates", server_id=server.pk)
    schedule = form.cleaned_data["schedule"].strip()
    upkeep_services.set_window(actor_of(request), server, schedule=schedule,
                               scope=form.cleaned_data["scope"],
                               reboot=form.cleaned_data["reboot"])  # fmt: skip
    if schedule:
        messages.success(request, f"{server.name} is upgraded {in_words(schedule).lower()}.")
    else:
        messages.success(request, f"{server.name} has no upgrade window any more.")
    return redirect("server_updates", server_id=server.pk)


def _started(request: HttpRequest, server: Server, start: Callable[[], Job]) -> HttpResponse:
    """The started job's page, or back to the updates page saying why it did not start."""
    try:
        job = start()
    except DeployRefused as refused:
        messages.error(request, str(refused))
        return redirect("server_updates", server_id=server.pk)
    return redirect("job_detail", job_id=job.pk)
