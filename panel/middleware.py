from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from panel.api.auth import API_PREFIX
from panel.api.auth import error as api_error
from panel.models import Team
from panel.permissions import teams_of
from panel.validators import unsafe_label, unsafe_text_reason

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


class RefuseUnsafeInputMiddleware:
    """Refuses, before any view runs, a request whose path, query or form fields hold text no
    field of the panel accepts (control characters, unencodable text, oversized values), and
    says which field. The API's JSON bodies get the same check in its body parser."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            problem = _unsafe_input(request)
        except RequestDataTooBig:
            return _refuse(request, 413, "The request is too large.")
        except TooManyFieldsSent:
            return _refuse(request, 400, "The request has too many fields.")
        if problem:
            return _refuse(request, 400, problem)
        return self.get_response(request)


def _unsafe_input(request: HttpRequest) -> str | None:
    reason = unsafe_text_reason(request.path)
    if reason:
        return f"The address {reason}."
    fields: list[QueryDict] = [request.GET]
    if request.method == "POST" and not request.path.startswith(API_PREFIX):
        fields.append(request.POST)
    for query in fields:
        for name, values in query.lists():
            for text in (name, *values):
                reason = unsafe_text_reason(text)
                if reason:
                    return f"The field “{unsafe_label(name)}” {reason}. Remove it and try again."
    return None


def _refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(status, message)
    return render(request, "panel/refused.html", {"message": message}, status=status)
