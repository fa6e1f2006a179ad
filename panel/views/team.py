from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_POST

from panel import teams
from panel.forms import MemberForm
from panel.models import Membership, Role
from panel.permissions import Action, require
from panel.requests import actor_of, team_of


@login_required
def members(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.VIEW)
    form = MemberForm(request.POST or None)
    sign_in_link = ""
    if request.method == "POST":
        require(request.user, team, Action.MANAGE_MEMBERS)
        if form.is_valid():
            user, created = User.objects.get_or_create(
                username=form.cleaned_data["username"],
                defaults={"email": form.cleaned_data["email"]},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                sign_in_link = _set_password_link(user)
            try:
                teams.set_member_role(actor_of(request), team, user, form.cleaned_data["role"])
            except (PermissionDenied, teams.LastOwnerError) as error:
                form.add_error("role", str(error))
            else:
                messages.success(request, f"{user.username} is now {form.cleaned_data['role']}.")
                if not sign_in_link:
                    return redirect("members")
    memberships = (
        Membership.objects.filter(team=team).select_related("user").order_by("user__username")
    )
    return render(
        request,
        "panel/members.html",
        {
            "form": form,
            "memberships": memberships,
            "roles": Role.choices,
            "sign_in_link": sign_in_link,
        },
    )


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


def _set_password_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return f"{settings.PANEL_BASE_URL}{path}"
