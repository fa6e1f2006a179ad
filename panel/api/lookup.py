"""Finding what an operation acts on, by the same rules as the pages: a row of another team
is 404, a role or scope below the action is 403."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from ninja.params.functions import Query as QueryParam

from panel.api.auth import ApiError, require_api, require_scope
from panel.models import Team
from panel.permissions import Action, get_for, teams_of
from panel.requests import ApiRequest

M = TypeVar("M", bound=models.Model)


def by_pk(request: ApiRequest, queryset: models.QuerySet[M], pk: Any, action: Action) -> M:
    found = get_for(request.user, queryset, pk, action)
    require_scope(request, action)
    return found


def by_name(
    request: ApiRequest, queryset: models.QuerySet[M], name: str, action: Action, team: str | None
) -> M:
    """The row named so in the user's teams; `team` (a slug) picks one where several have it."""
    kind = queryset.model._meta.verbose_name
    rows = list(queryset.filter(name=name, team__in=teams_of(request.user)).select_related("team"))
    if team:
        rows = [row for row in rows if row.team.slug == team]  # type: ignore[attr-defined]
    if not rows:
        raise ApiError(404, f"No {kind} named {name!r} in your teams.")
    if len(rows) > 1:
        raise ApiError(
            400, f"Several of your teams have a {kind} named {name!r}: add ?team=<slug>."
        )
    require_api(request, rows[0].team_id, action)  # type: ignore[attr-defined]
    return rows[0]


def named_in_team(team_id: int, model: type[M], field: str, name: str) -> M:
    """A row a body names in the operation's team (a key, a server, a repository): 400 when the
    team has none of that name."""
    found = model._default_manager.filter(team_id=team_id, name=name).first()
    if found is None:
        raise ApiError(400, f"{field}: this team has none named {name!r}.", {field: "unknown"})
    return found


def team_for(request: ApiRequest, slug: str | None, action: Action) -> Team:
    """The team an operation creates in or lists: `?team=<slug>`, or the user's only team."""
    teams = teams_of(request.user)
    if slug:
        team = teams.filter(slug=slug).first()
        if team is None:
            raise ApiError(404, f"You are in no team {slug!r}.")
    else:
        found = list(teams[:2])
        if len(found) != 1:
            raise ApiError(400, "Name the team: add ?team=<slug>.", {"team": "required"})
        team = found[0]
    require_api(request, team.pk, action)
    return team


def in_teams(
    request: ApiRequest, queryset: models.QuerySet[M], slug: str | None
) -> models.QuerySet[M]:
    """A list's rows: of the user's teams, or of the one named; the scope must allow reading."""
    if slug:
        return queryset.filter(team=team_for(request, slug, Action.VIEW))
    require_scope(request, Action.VIEW)
    return queryset.filter(team__in=teams_of(request.user))


TEAM: Any = QueryParam(
    None, max_length=50, description="A team's slug: which team, where you are in several"
)
