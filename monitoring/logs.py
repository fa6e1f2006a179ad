"""A server's logs live in one view: its journal (a unit, a priority) or a file under /var/log,
merged with its running containers' logs, filtered on the server (a fixed string), as
server-sent events. For deployers and up, like an app's logs."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from deployments.logs import Source, streaming
from monitoring import commands
from monitoring.models import HostHealth
from monitoring.validators import PRIORITIES, validate_log_file, validate_unit
from panel.permissions import Action, get_for
from servers.models import Server
from servers.targets import target_for

LINES = 100


class LogFilter(forms.Form):
    unit = forms.CharField(
        required=False, max_length=200, validators=[validate_unit],
        help_text="A systemd unit: ssh, docker, cron…",
    )  # fmt: skip
    priority = forms.ChoiceField(
        required=False, choices=[("", "any"), *((p, p) for p in PRIORITIES)],
        help_text="This one and the more urgent.",
    )  # fmt: skip
    file = forms.CharField(
        required=False, max_length=220, validators=[validate_log_file], label="Or a file",
        help_text="Under /var/log, for hosts without a journal.",
    )  # fmt: skip
    grep = forms.CharField(
        required=False, max_length=200, label="Lines holding",
        help_text="Filtered on the server: a plain string, not a pattern.",
    )  # fmt: skip
    containers = forms.BooleanField(required=False, initial=True, label="With its containers")


@login_required
def server_logs(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.CHECK_SERVER)  # fmt: skip
    form = LogFilter(request.GET or {"containers": True})
    stream = reverse("server_logs_stream", args=[server.pk])
    query = request.GET.urlencode() if request.GET else "containers=on"
    return render(request, "monitoring/server_logs.html", {
        "server": server, "form": form, "stream_url": f"{stream}?{query}",
        "valid": form.is_valid(),
    })  # fmt: skip


async def server_logs_stream(request: HttpRequest, server_id: int) -> HttpResponseBase:
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse("Sign in first.", status=401, content_type="text/plain")
    form = LogFilter(request.GET)
    if not await sync_to_async(form.is_valid)():
        errors = "; ".join(
            f"{name}: {' '.join(map(str, said))}" for name, said in form.errors.items()
        )
        return HttpResponse(errors, status=400, content_type="text/plain")
    return streaming(await sync_to_async(_sources)(user, server_id, form.cleaned_data))


def _sources(user: Any, server_id: int, wanted: dict[str, Any]) -> list[Source]:
    server = get_for(user, Server.objects.select_related("team", "ssh_key"), server_id,
                     Action.CHECK_SERVER)  # fmt: skip
    if not server.is_trusted:
        raise ValidationError("Its host key is not trusted.")
    target, pattern = target_for(server), wanted["grep"]
    host = commands.host_log(wanted["unit"], wanted["priority"], wanted["file"], pattern, LINES)
    sources: list[Source] = [("host", target, host)]
    health = HostHealth.objects.filter(server=server).first()
    if wanted["containers"] and health is not None:
        running = [
            c["name"] for c in health.latest.get("containers", []) if c["state"] == "running"
        ]
        sources += [
            (name, target, commands.container_log(name, pattern, LINES)) for name in running
        ]
    return sources
