"""What a view needs to know about who is asking and from where."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest

from panel.audit import Actor
from panel.models import ApiToken, Team
from panel.permissions import teams_of

SESSION_TEAM_KEY = "panel_team_id"
_CACHED_TEAM = "_panel_team"


class ApiRequest(HttpRequest):
    """A request the API's token check let through: it carries the token it was made with."""

    api_token: ApiToken


def asked_by_htmx(request: HttpRequest) -> bool:
    """Whether htmx asks (a part of a page that updates itself), not a browser for a page."""
    return bool(getattr(request, "htmx", False))


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


def current_team(request: HttpRequest) -> Team | None:
    """The team chosen in the session if the user is still a member, else their first team;
    None for someone signed out or in no team. Read on first use and kept on the request, so
    a request that never asks (a log stream, /up) costs no query."""
    if hasattr(request, _CACHED_TEAM):
        cached: Team | None = getattr(request, _CACHED_TEAM)
        return cached
    team = None
    if request.user.is_authenticated:
        teams = teams_of(request.user)
        chosen = request.session.get(SESSION_TEAM_KEY)
        team = teams.filter(pk=chosen).first() if chosen else None
        team = team or teams.order_by("pk").first()
    setattr(request, _CACHED_TEAM, team)
    return team


def team_of(request: HttpRequest) -> Team:
    """The request's current team; 404 for someone who is in no team yet."""
    team = current_team(request)
    if team is None:
        raise Http404("You are not in a team yet.")
    return team
