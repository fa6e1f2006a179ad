"""A server's firewall: the allowed ports, what is on the server now and how it drifted from
what the panel applied, and the exact commands that apply the rules (admins)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panel.permissions import Action, get_for
from panel.requests import actor_of
from servers import firewall_services, ssh
from servers.commands.firewall import install_script
from servers.firewall import drift, rules_from, text_of
from servers.firewall_forms import FirewallForm
from servers.firewall_plans import Refused, plan_firewall
from servers.models import Firewall, Server
from servers.operations.firewall import read_live
from servers.plans import Host
from servers.targets import target_for


@login_required
def server_firewall(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team", "ssh_key"), server_id)
    firewall = firewall_services.wanted(server)
    rules = rules_from(firewall.rules)
    form = FirewallForm(initial={"rules": text_of(rules)})
    if request.method == "POST":
        get_for(request.user, Server.objects.all(), server.pk, Action.MANAGE_SERVERS)
        form = FirewallForm(request.POST)
        if form.is_valid():
            firewall_services.set_rules(actor_of(request), server, form.cleaned_data["rules"])
            messages.success(request, "Rules saved. Nothing changed on the server yet: "
                             "look at the commands below, then apply them.")  # fmt: skip
            return redirect("server_firewall", server_id=server.pk)
    context = {"server": server, "firewall": firewall, "form": form, "rules_text": text_of(rules)}
    return render(request, "servers/server_firewall.html", context)


@login_required
def server_firewall_live(request: HttpRequest, server_id: int) -> HttpResponse:
    """The part of the page read from the server (loaded after the page, so it never waits)."""
    server = get_for(request.user, Server.objects.select_related("team", "ssh_key"), server_id)
    firewall = firewall_services.wanted(server)
    rules = rules_from(firewall.rules)
    context: dict[str, Any] = {"server": server, "firewall": firewall, "rules_text": text_of(rules)}
    if not server.is_trusted:
        context["error"] = "Its host key is not trusted yet."
        return render(request, "servers/_firewall_live.html", context)
    try:
        live = ssh.run_sync(read_live(target_for(server)), timeout=70)
    except ssh.SshError as error:
        context["error"] = str(error)
        return render(request, "servers/_firewall_live.html", context)
    context["live"] = live
    if firewall.applied_at:
        context["drift"] = drift(firewall.applied_state, live)
    try:
        plan = plan_firewall(Host(server.pk, server.name), rules,
                             rules_from(firewall.applied_rules), live)  # fmt: skip
    except Refused as refused:
        context["refused"] = str(refused)
    else:
        context["commands"] = plan.commands()
        context["script"] = install_script(rules, with_ufw=bool(live.ufw))
    return render(request, "servers/_firewall_live.html", context)


@login_required
@require_POST
def server_firewall_apply(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    firewall = Firewall.objects.filter(server=server).first()
    if firewall is None or request.POST.get("rules", "") != text_of(rules_from(firewall.rules)):
        messages.error(request, "The rules changed since this page showed them: look again.")
        return redirect("server_firewall", server_id=server.pk)
    job = firewall_services.start_apply(actor_of(request), firewall)
    return redirect("job_detail", job_id=job.pk)
