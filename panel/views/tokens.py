from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from panel.api import tokens
from panel.models import ApiToken, TokenScope
from panel.requests import actor_of, current_team


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.DEPLOY,
        help_text="read: look only; deploy: deploy and roll back (what CI needs); admin: all.",
    )
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        label="Expires in (days)",
        help_text="Empty: never expires (revoke it when done).",
    )


@login_required
@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = ""
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        expires = timezone.now() + timedelta(days=days) if days else None
        secret = tokens.create(
            actor_of(request),
            _user(request),
            form.cleaned_data["name"],
            form.cleaned_data["scope"],
            expires,
            team=current_team(request),
        )
        form = TokenForm()
    user_tokens = ApiToken.objects.filter(user=_user(request))
    return render(
        request, "panel/tokens.html", {"form": form, "tokens": user_tokens, "secret": secret}
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=_user(request))
    tokens.revoke(actor_of(request), token, team=current_team(request))
    messages.success(request, f"Token {token.name} is revoked.")
    return redirect("token_list")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required let only signed-in users through
    return user
