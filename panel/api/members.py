"""A team's members over the API: list them, change a role, remove one. New members come in
by invitation (Team → Members)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status

from panel import teams
from panel.api.auth import ApiError, actor_of, needs
from panel.api.bodies import StrictBody
from panel.api.lookup import TEAM, team_for
from panel.api.pages import paged
from panel.models import Membership, Role, Team
from panel.permissions import Action
from panel.requests import ApiRequest

router = Router(tags=["members"])


class MemberOut(Schema):
    username: str = Field(alias="user.username")
    email: str = Field(alias="user.email")
    role: str
    created_at: datetime


class RoleBody(StrictBody):
    role: Role = Field(strict=False)


@router.get("/members", response=list[MemberOut], openapi_extra=needs(Action.VIEW))
@paged()
def member_list(request: ApiRequest, team: str | None = TEAM) -> Any:
    chosen = team_for(request, team, Action.VIEW)
    return Membership.objects.filter(team=chosen).select_related("user")


@router.patch("/members/{username}", response=MemberOut, openapi_extra=needs(Action.MANAGE_MEMBERS))
def member_change(
    request: ApiRequest, username: str, body: RoleBody, team: str | None = TEAM
) -> Any:
    """Admins change roles below owner; owners alone grant or take ownership."""
    chosen = team_for(request, team, Action.MANAGE_MEMBERS)
    member = _member(chosen, username)
    try:
        return teams.set_member_role(actor_of(request), chosen, member.user, body.role)
    except teams.LastOwnerError as refusal:
        raise ApiError(409, str(refusal)) from refusal


@router.delete(
    "/members/{username}", response={204: None}, openapi_extra=needs(Action.MANAGE_MEMBERS)
)
def member_remove(request: ApiRequest, username: str, team: str | None = TEAM) -> Any:
    chosen = team_for(request, team, Action.MANAGE_MEMBERS)
    member = _member(chosen, username)
    try:
        teams.remove_member(actor_of(request), chosen, member.user)
    except teams.LastOwnerError as refusal:
        raise ApiError(409, str(refusal)) from refusal
    return Status(204, None)


def _member(team: Team, username: str) -> Membership:
    found = (
        Membership.objects.filter(team=team, user__username=username).select_related("user").first()
    )
    if found is None:
        raise ApiError(404, f"{team.slug} has no member {username!r}.")
    return found
