from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from panel import invitation_services, teams
from panel.forms import InviteForm
from panel.models import Invitation, Membership, Role
from panel.permissions import Action, require
from panel.requests import actor_of, team_of


@login_required
def members(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.VIEW)
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        require(request.user, team, Action.MANAGE_MEMBERS)
        if form.is_valid():
            email, role = form.cleaned_data["email"], form.cleaned_data["role"]
            try:
                invitation, link = invitation_services.invite(actor_of(request), team, email, role)
            except PermissionDenied as refused:
                form.add_error("role", str(refused))
            except invitation_services.InvitationRefused as refused:
                form.add_error("email", str(refused))
            else:
                problem = invitation_services.send(invitation, link)
                if not problem:
                    messages.success(request, f"An invitation is on its way to {invitation.email}.")
                    return redirect("members")
                messages.error(
                    request,
                    f"The mail to {invitation.email} could not be sent ({problem}). Check the "
                    "mail settings, revoke this invitation and invite again.",
                )
                return redirect("members")
    memberships = (
        Membership.objects.filter(team=team).select_related("user").order_by("user__username")
    )
    context = {
        "form": form,
        "memberships": memberships,
        "roles": Role.choices,
        "invitations": invitation_services.pending(team),
    }
    return render(request, "panel/members.html", context)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_MEMBERS)
    invitation = get_object_or_404(Invitation, pk=invitation_id, team=team)
    try:
        invitation_services.revoke(actor_of(request), invitation)
    except PermissionDenied as refused:
        raise PermissionDenied(str(refused)) from refused
    messages.success(request, f"The invitation to {invitation.email} is revoked.")
    return redirect("members")


@login_required
@require_POST
def member_change(request: HttpRequest, user_id: int) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_MEMBERS)
    membership = get_object_or_404(Membership, team=team, user_id=user_id)
    try:
        if request.POST.get("remove"):
            teams.remove_member(actor_of(request), team, membership.user)
            messages.success(request, f"{membership.user.username} left the team.")
        elif request.POST.get("role") in Role.values:
            teams.set_member_role(actor_of(request), team, membership.user, request.POST["role"])
            messages.success(request, f"{membership.user.username} is now {request.POST['role']}.")
    except teams.LastOwnerError as error:
        messages.error(request, str(error))
    except PermissionDenied as error:
        raise PermissionDenied(str(error)) from error
    return redirect("members")
