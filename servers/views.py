from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import ProtectedError, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from panel.forms import errors_in_words
from panel.models import Job
from panel.pages import page_of
from panel.permissions import Action, get_for, require
from panel.requests import actor_of, team_of
from servers import keys, services
from servers.forms import (
    SERVER_FIELDS,
    ConfirmHostKeyForm,
    ExecForm,
    KeyForm,
    NewServerForm,
    ServerForm,
)
from servers.models import Server, SshKey


@login_required
def server_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    search = request.GET.get("q", "").strip()
    servers = Server.objects.filter(team=team).select_related("ssh_key", "updates").order_by("name")
    if search:
        servers = servers.filter(Q(name__icontains=search) | Q(host__icontains=search))
    return render(
        request, "servers/server_list.html", {"search": search, **page_of(request, servers)}
    )


@login_required
def server_new(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_SERVERS)
    if not SshKey.objects.filter(team=team).exists():
        messages.info(request, "Add an SSH key first: the panel logs in to servers with it.")
        return redirect("key_new")
    form = NewServerForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        fields = form.server_fields()
        server, outcome = services.create_server(
            actor_of(request), team, fields, form.cleaned_data["expected_fingerprint"]
        )
        _say(request, outcome)
        return redirect("server_detail", server_id=server.pk)
    return render(request, "servers/server_form.html", {"form": form, "server": None})


@login_required
def server_detail(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("ssh_key", "team"), server_id)
    jobs = Job.objects.filter(
        team=server.team, target_type="servers.server", target_id=str(server.pk)
    )[:8]
    return render(request, "servers/server_detail.html", {"server": server, "jobs": jobs})


@login_required
def server_edit(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(
        request.user,
        Server.objects.select_related("ssh_key", "team"),
        server_id,
        Action.MANAGE_SERVERS,
    )
    initial = {name: getattr(server, name) for name in SERVER_FIELDS}
    form = ServerForm(request.POST or None, team=server.team, server=server, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = form.server_fields()
        services.update_server(actor_of(request), server, fields)
        messages.success(request, f"{server.name} is saved.")
        return redirect("server_detail", server_id=server.pk)
    return render(request, "servers/server_form.html", {"form": form, "server": server})


@login_required
@require_POST
def server_delete(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(
        request.user, Server.objects.select_related("team"), server_id, Action.MANAGE_SERVERS
    )
    services.delete_server(actor_of(request), server)
    messages.success(request, f"{server.name} is removed from the panel (nothing on it changed).")
    return redirect("server_list")


@login_required
@require_POST
def host_key_fetch(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(
        request.user, Server.objects.select_related("team"), server_id, Action.MANAGE_SERVERS
    )
    _say(request, services.fetch_host_key(actor_of(request), server))
    return redirect("server_detail", server_id=server.pk)


@login_required
@require_POST
def host_key_trust(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(
        request.user, Server.objects.select_related("team"), server_id, Action.MANAGE_SERVERS
    )
    form = ConfirmHostKeyForm(request.POST, mismatch=bool(server.expected_host_key_fingerprint))
    if not form.is_valid():
        messages.error(request, errors_in_words(form))
    else:
        try:
            services.trust_host_key(actor_of(request), server, form.cleaned_data["fingerprint"])
            messages.success(request, f"The host key of {server.name} is trusted.")
        except ValueError as error:
            messages.error(request, str(error))
    return redirect("server_detail", server_id=server.pk)


@login_required
@require_POST
def server_check(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(
        request.user, Server.objects.select_related("team"), server_id, Action.CHECK_SERVER
    )
    job = services.start_check(actor_of(request), server)
    return redirect("job_detail", job_id=job.pk)


@login_required
@require_POST
def server_updates_checks(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.CHECK_SERVER)
    job = services.start_updates_checks(actor_of(request), team)
    if job is None:
        messages.info(request, "No server with a trusted host key to check.")
        return redirect("server_list")
    return redirect("job_detail", job_id=job.pk)


@login_required
@require_POST
def server_bootstrap(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(
        request.user, Server.objects.select_related("team"), server_id, Action.MANAGE_SERVERS
    )
    job = services.start_bootstrap(actor_of(request), server)
    return redirect("job_detail", job_id=job.pk)


@login_required
def server_exec(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.SERVER_EXEC)
    initial = {"servers": request.GET.getlist("server")}
    form = ExecForm(request.POST or None, team=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        job = services.start_exec(
            actor_of(request),
            team,
            list(form.cleaned_data["servers"]),
            form.cleaned_data["command"],
        )
        return redirect("job_detail", job_id=job.pk)
    return render(request, "servers/server_exec.html", {"form": form})


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    ssh_keys = SshKey.objects.filter(team=team)
    return render(request, "servers/key_list.html", {"ssh_keys": ssh_keys})


@login_required
@never_cache
def key_new(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_SERVERS)
    form = KeyForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["private_key"].strip():
                key = services.import_key(
                    actor_of(request), team, data["name"], data["private_key"], data["passphrase"]
                )
            else:
                key = services.generate_key(actor_of(request), team, data["name"])
        except keys.InvalidKey as error:
            form.add_error("private_key", str(error))
        else:
            messages.success(
                request, f"Key {key.name} is ready. Install its public key on your servers."
            )
            return redirect("key_detail", key_id=key.pk)
    return render(request, "servers/key_form.html", {"form": form})


@login_required
def key_detail(request: HttpRequest, key_id: str) -> HttpResponse:
    key = get_for(request.user, SshKey.objects.select_related("team"), key_id)
    return render(request, "servers/key_detail.html", {"key": key, "servers": key.servers.all()})


@login_required
@require_POST
def key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    key = get_for(
        request.user, SshKey.objects.select_related("team"), key_id, Action.MANAGE_SERVERS
    )
    try:
        services.delete_key(actor_of(request), key)
    except ProtectedError:
        messages.error(
            request, f"{key.name} is still used by a server; change those servers first."
        )
        return redirect("key_detail", key_id=key.pk)
    messages.success(request, f"Key {key.name} is deleted.")
    return redirect("key_list")


def _say(request: HttpRequest, outcome: services.HostKeyOutcome) -> None:
    (messages.warning if outcome.warning else messages.info)(request, outcome.message)
