"""A server's security report: read when the page opens (nothing changes on the server),
each finding with why it matters, and the fix the panel can run where it has one."""

from __future__ import annotations

import asyncio
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panel.permissions import Action, get_for
from panel.requests import actor_of
from servers import services, ssh
from servers.commands import security as commands
from servers.models import Server, ServerUpdates
from servers.os_plans import plan_ssh_hardening
from servers.plans import Host
from servers.security import findings, parse
from servers.targets import target_for


@login_required
def server_security(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team", "ssh_key"), server_id)
    context: dict[str, Any] = {"server": server}
    if not server.is_trusted:
        context["error"] = "Its host key is not trusted yet."
    else:
        try:
            answer = asyncio.run(ssh.run(target_for(server), commands.report(), timeout=60))
        except ssh.SshError as error:
            context["error"] = str(error)
        else:
            report = parse(answer.stdout)
            stored = ServerUpdates.objects.filter(server=server).first()
            context.update({
                "report": report,
                "findings": findings(report, security_updates=stored.security if stored else None,
                                     ssh_port=server.port),
                "hardening": plan_ssh_hardening(Host(server.pk, server.name),
                                                report.privilege).commands(),
            })  # fmt: skip
    return render(request, "servers/server_security.html", context)


@login_required
@require_POST
def server_ssh_hardening(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    job = services.start_ssh_hardening(actor_of(request), server)
    return redirect("job_detail", job_id=job.pk)
