from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from panel import requests
from panel.permissions import Action, role_allows, role_of, teams_of


def team_and_role(request: HttpRequest) -> dict[str, Any]:
    team = requests.current_team(request)
    if team is None:
        return {"team": None, "teams": [], "role": None, "can": {}}
    role = role_of(request.user, team)
    return {
        "team": team,
        "teams": list(teams_of(request.user)),
        "role": role,
        "can": {action.value: role_allows(role, action) for action in Action},
    }
