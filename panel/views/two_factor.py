"""Signing in with a second factor, and turning it on or off in one's account."""

from __future__ import annotations

import base64
import time
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from panel import two_factor_services
from panel.forms import RateLimitedLoginForm, count_failure, too_many_failures
from panel.requests import actor_of, client_ip, team_of
from panel.two_factor_services import CodeRefused

PENDING_KEY = "panel_pending_sign_in"
PENDING_SECONDS = 300


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="The six digits the app shows now, or one of your recovery codes.",
    )


class SignInView(auth_views.LoginView):
    """The password first; a person with a second factor then gives a code before the
    session is theirs."""

    authentication_form = RateLimitedLoginForm

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not two_factor_services.is_on(user):
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return redirect("login_code")


@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY) or {}
    user = User.objects.filter(pk=pending.get("user") or 0, is_active=True).first()
    if user is None or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        messages.error(request, "Sign in again: the first step is older than five minutes.")
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        if too_many_failures(user.username, ip):
            form.add_error("code", "Too many failed sign-ins. Wait a few minutes and try again.")
        elif (device := match_token(user, form.cleaned_data["code"].replace(" ", ""))) is None:
            count_failure(user.username, ip)
            form.add_error("code", "That code is not right.")
        else:
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            if device.name == two_factor_services.RECOVERY_DEVICE:
                left = two_factor_services.recovery_codes_left(user)
                messages.warning(request, f"You used a recovery code; {left} are left.")
            return _to_next(request, pending.get("next", ""))
    return render(request, "registration/login_code.html", {"form": form})


@login_required
@never_cache
def account_two_factor(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    codes: list[str] = []
    form = CodeForm(request.POST or None)
    form.fields["code"].help_text = "The six digits the app shows now."
    device = (
        None if two_factor_services.is_on(user) else two_factor_services.device_to_confirm(user)
    )
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            codes = two_factor_services.confirm(
                actor_of(request), user, device, form.cleaned_data["code"]
            )
        except CodeRefused as refused:
            form.add_error("code", str(refused))
        else:
            otp_login(request, device)
            device = None
    context = {
        "form": form,
        "device": device,
        "qr": _qr(device.config_url) if device else "",
        "key": _spaced(device) if device else "",
        "codes": codes,
        "codes_left": two_factor_services.recovery_codes_left(user),
        "required": two_factor_services.required_of(user),
    }
    return render(request, "panel/two_factor.html", context)


@login_required
@never_cache
@require_POST
def account_recovery_codes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not two_factor_services.is_on(user):
        return redirect("account_two_factor")
    codes = two_factor_services.new_recovery_codes(actor_of(request), user)
    context = {"form": None, "device": None, "codes": codes, "codes_left": len(codes),
               "required": two_factor_services.required_of(user)}  # fmt: skip
    return render(request, "panel/two_factor.html", context)


@login_required
@require_POST
def account_two_factor_off(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not two_factor_services.is_on(user):
        return redirect("account_two_factor")
    if two_factor_services.required_of(user):
        messages.error(request, "A team of yours requires two-factor sign-in: it stays on.")
        return redirect("account_two_factor")
    if not user.check_password(request.POST.get("password", "")):
        messages.error(request, "That is not your password: two-factor sign-in stays on.")
        return redirect("account_two_factor")
    two_factor_services.turn_off(actor_of(request), user)
    messages.success(request, "Two-factor sign-in is off.")
    return redirect("account_two_factor")


@login_required
@require_POST
def team_two_factor(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    if request.POST.get("required") not in ("0", "1"):
        return HttpResponseBadRequest("required: 0 or 1.")
    required = request.POST["required"] == "1"
    try:
        two_factor_services.require_for_team(actor_of(request), team, required)
    except PermissionDenied as refused:
        raise PermissionDenied(str(refused)) from refused
    if required:
        messages.success(request, f"{team.name} requires two-factor sign-in from now on.")
    else:
        messages.success(request, f"{team.name} no longer requires two-factor sign-in.")
    return redirect("members")


def _qr(url: str) -> str:
    return str(segno.make(url, error="m").svg_inline(scale=4, dark="#1b2430"))


def _spaced(device: Any) -> str:
    """The key in base32, in groups of four, for typing into an app by hand."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _to_next(request: HttpRequest, target: str) -> HttpResponseRedirect:
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return redirect(target if safe and target else settings.LOGIN_REDIRECT_URL)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required let only signed-in users through
    return user
