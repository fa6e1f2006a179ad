from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from panel.models import Team
from panel.permissions import teams_of

SESSION_TEAM_KEY = "panel_team_id"


def current_team(request: HttpRequest) -> Team | None:
    """The team chosen in the session if the user is still a member, else their first team."""
    teams = teams_of(request.user)
    chosen = request.session.get(SESSION_TEAM_KEY)
    team = teams.filter(pk=chosen).first() if chosen else None
    return team or teams.order_by("pk").first()


class CurrentTeamMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        authenticated = request.user.is_authenticated
        request.team = current_team(request) if authenticated else None  # type: ignore[attr-defined]
        return self.get_response(request)
