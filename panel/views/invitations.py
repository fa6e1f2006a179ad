"""Where an invitation's link leads: join as the signed-in user, or create the account of the
invited address and join."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from panel import invitation_services
from panel.invitation_services import InvitationRefused
from panel.requests import SESSION_TEAM_KEY


@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_services.find(token)
    except InvitationRefused as refused:
        return render(request, "panel/invitation.html", {"refused": str(refused)}, status=410)
    account: UserCreationForm[User] = UserCreationForm(
        request.POST if "username" in request.POST else None
    )
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                invitation_services.accept(request.user, token)
                user = request.user
            elif account.is_valid():
                user = invitation_services.create_account(
                    token, account.cleaned_data["username"], account.cleaned_data["password1"]
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                user = None
        except InvitationRefused as refused:
            messages.error(request, str(refused))
        else:
            if user is not None:
                request.session[SESSION_TEAM_KEY] = invitation.team.pk
                messages.success(request, f"Welcome to {invitation.team.name}.")
                return redirect("dashboard")
    context = {"invitation": invitation, "account": account, "token": token}
    return render(request, "panel/invitation.html", context)
