"""A server's disk as Docker accounts for it, and its cleanup: the preview lists every item
that would go (and why), the button runs exactly those."""

from __future__ import annotations

import asyncio
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments import services
from deployments.cleanup_forms import CleanupForm, CleanupScheduleForm, item_keys
from deployments.models import CleanupSchedule
from deployments.operations.cleanup import found_now
from deployments.services import DeployRefused
from panel.forms import errors_in_words
from panel.permissions import Action, get_for, require
from panel.requests import actor_of
from panel.schedules import in_words
from servers import ssh
from servers.cleanup import usage
from servers.models import Server
from servers.operations.docker_disk import read_df
from servers.targets import target_for

BIGGEST = 10


@login_required
def server_disk(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team", "ssh_key"), server_id)
    if request.method == "POST":
        require(request.user, server.team, Action.MANAGE_SERVERS)
        form = CleanupForm(request.POST)
        if form.is_valid():
            try:
                job = services.start_cleanup(
                    actor_of(request), server, items=item_keys(request.POST.getlist("items")),
                    cache_days=form.cleaned_data["cache_days"],
                    volumes=form.cleaned_data["volumes"],
                )  # fmt: skip
            except (ValidationError, DeployRefused) as refused:
                messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
            else:
                return redirect("job_detail", job_id=job.pk)
    else:
        form = CleanupForm(request.GET or None, initial={"cache_days": 7})
    planned = CleanupSchedule.objects.filter(server=server).first()
    return render(request, "deployments/server_disk.html", {
        "server": server, "form": form, **_report(server, form), "planned": planned,
        "words": in_words(planned.schedule) if planned else "",
        "schedule_form": CleanupScheduleForm(
            initial={"schedule": planned.schedule, "cache_days": planned.cache_days}
            if planned else {"cache_days": 7}
        ),
    })  # fmt: skip


@login_required
@require_POST
def server_cleanup_schedule(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    form = CleanupScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_in_words(form))
        return redirect("server_disk", server_id=server.pk)
    schedule, cache_days = form.cleaned_data["schedule"].strip(), form.cleaned_data["cache_days"]
    services.schedule_cleanup(actor_of(request), server, schedule=schedule, cache_days=cache_days)
    if schedule:
        messages.success(request, f"{server.name} is cleaned up {in_words(schedule).lower()}.")
    else:
        messages.success(request, f"{server.name} is no longer cleaned up on a schedule.")
    return redirect("server_disk", server_id=server.pk)


def _report(server: Server, form: CleanupForm) -> dict[str, Any]:
    if not server.is_trusted:
        return {"error": "Its host key is not trusted yet."}
    try:
        df = asyncio.run(read_df(target_for(server)))
    except ssh.SshError as error:
        return {"error": str(error)}
    options = form.cleaned_data if form.is_bound and form.is_valid() else {}
    found = found_now(server, df, {"cache_days": options.get("cache_days", 7),
                                   "volumes": options.get("volumes", [])})  # fmt: skip
    return {
        "usage": usage(df),
        "items": found,
        "freed": sum(item.size for item in found),
        "images": [
            {
                "tags": (image.get("RepoTags") or [])[:3],
                "more": max(0, len(image.get("RepoTags") or []) - 3),
                "size": image.get("Size"),
            }
            for image in sorted(df.get("Images") or [], key=lambda i: -int(i.get("Size") or 0))
        ][:BIGGEST],
        "volumes": sorted(
            df.get("Volumes") or [], key=lambda v: -int((v.get("UsageData") or {}).get("Size") or 0)
        )[:BIGGEST],
    }
