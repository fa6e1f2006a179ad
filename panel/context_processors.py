from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from panel.permissions import Action, role_allows, role_of, teams_of


def current_team(request: HttpRequest) -> dict[str, Any]:
    team = getattr(request, "team", None)
    if team is None or not request.user.is_authenticated:
        return {"team": None, "teams": [], "role": None, "can": {}}
    role = role_of(request.user, team)
    return {
        "team": team,
        "teams": list(teams_of(request.user)),
        "role": role,
        "can": {action.value: role_allows(role, action) for action in Action},
    }
