"""What a view needs to know about who is asking and from where."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest

from panel.audit import Actor
from panel.models import Team


def client_ip(request: HttpRequest) -> str | None:
    """The peer address; X-Forwarded-For counts only through proxies the operator trusts."""
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = settings.PANEL_TRUSTED_PROXY_COUNT
    if trusted > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= trusted:
            remote = hops[-trusted]
    try:
        return str(ipaddress.ip_address(remote)) if remote else None
    except ValueError:
        return None


def actor_of(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, ip=client_ip(request))


def team_of(request: HttpRequest) -> Team:
    """The request's current team; 404 for someone who is in no team yet."""
    team: Team | None = getattr(request, "team", None)
    if team is None:
        raise Http404("You are not in a team yet.")
    return team
