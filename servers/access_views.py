"""Team SSH access: a person's own public keys, and per server who may log in as whom,
with what the last sync found outside the panel's block."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from panel.permissions import Action, get_for
from panel.requests import actor_of
from servers import access_services
from servers.access_forms import GrantForm, MemberKeyForm
from servers.models import ManagedLogin, MemberKey, Server, ServerAccess


@login_required
def member_keys(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required let only signed-in users through
    form = MemberKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = access_services.add_member_key(actor_of(request), user,
                                                 form.cleaned_data["name"],
                                                 form.cleaned_data["public_key"])  # fmt: skip
        except ValidationError as error:
            form.add_error("public_key", error)
        else:
            messages.success(request, f"{key.name} added; servers you may log in to get it.")
            return redirect("member_keys")
    keys = MemberKey.objects.filter(user=user)
    grants = ServerAccess.objects.filter(user=user).select_related("server", "team")
    return render(request, "servers/member_keys.html",
                  {"form": form, "keys": keys, "grants": grants})  # fmt: skip


@login_required
@require_POST
def member_key_delete(request: HttpRequest, member_key_id: int) -> HttpResponse:
    key = get_object_or_404(MemberKey, pk=member_key_id, user=request.user)
    access_services.remove_member_key(actor_of(request), key)
    messages.success(request, f"{key.name} removed; servers you may log in to lose it.")
    return redirect("member_keys")


@login_required
def server_access(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id)
    members = User.objects.filter(memberships__team=server.team).order_by("username")
    form = GrantForm(request.POST or None, members=members, initial={"login": server.user})
    if request.method == "POST":
        get_for(request.user, Server.objects.all(), server_id, Action.MANAGE_SERVERS)
        if form.is_valid():
            try:
                access_services.grant(actor_of(request), server, form.cleaned_data["member"],
                                      form.cleaned_data["login"])  # fmt: skip
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, "Granted; the server's keys are being brought up to date."
                )
                return redirect("server_access", server_id=server.pk)
    grants = ServerAccess.objects.filter(server=server).select_related("user")
    counts = {grant.pk: MemberKey.objects.filter(user=grant.user).count() for grant in grants}
    return render(request, "servers/server_access.html", {
        "server": server, "form": form, "logins": ManagedLogin.objects.filter(server=server),
        "grants": [(grant, counts[grant.pk]) for grant in grants],
    })  # fmt: skip


@login_required
@require_POST
def server_access_revoke(request: HttpRequest, server_id: int, access_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    access = get_object_or_404(ServerAccess.objects.select_related("user", "server", "team"),
                               pk=access_id, server=server)  # fmt: skip
    access_services.revoke(actor_of(request), access)
    messages.success(request, f"{access.user.username} may no longer log in as {access.login}.")
    return redirect("server_access", server_id=server.pk)


@login_required
@require_POST
def server_access_sync(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    job = access_services.start_sync(actor_of(request), server)
    return redirect("job_detail", job_id=job.pk)
