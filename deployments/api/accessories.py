"""Accessories over the API: list, read, and boot, reboot, start, stop or restart one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Router, Schema

from deployments import accessory_services
from deployments.models import Accessory
from deployments.services import DeployRefused
from panel.api.auth import ApiError, actor_of, needs
from panel.api.idempotency import idempotent
from panel.api.jobs import JobStarted, started
from panel.api.lookup import TEAM, by_name, in_teams
from panel.api.pages import paged
from panel.permissions import Action
from panel.requests import ApiRequest

router = Router(tags=["accessories"])
ACCESSORIES = Accessory.objects.select_related("team", "server")


class AccessoryOut(Schema):
    name: str
    team: str = Field(alias="team.slug")
    kind: str
    image: str
    server: str = Field(alias="server.name")
    port: int
    volumes: list[str]
    booted_at: datetime | None
    created_at: datetime


@router.get("/accessories", response=list[AccessoryOut], openapi_extra=needs(Action.VIEW))
@paged()
def accessory_list(request: ApiRequest, team: str | None = TEAM) -> Any:
    return in_teams(request, ACCESSORIES, team)


@router.get("/accessories/{name}", response=AccessoryOut, openapi_extra=needs(Action.VIEW))
def accessory_read(request: ApiRequest, name: str, team: str | None = TEAM) -> Any:
    return by_name(request, ACCESSORIES, name, Action.VIEW, team)


@router.post(
    "/accessories/{name}/{action}",
    response={202: JobStarted},
    openapi_extra=needs(Action.MANAGE_APPS),
)
@idempotent
def accessory_action(
    request: ApiRequest,
    name: str,
    action: Literal["boot", "reboot", "start", "stop", "restart"],
    team: str | None = TEAM,
) -> Any:
    """Removing one is left to its page, where its name is typed to confirm."""
    accessory = by_name(request, ACCESSORIES, name, Action.MANAGE_APPS, team)
    actor = actor_of(request)
    try:
        return started(lambda: accessory_services.start_accessory_job(actor, accessory, action))
    except DeployRefused as refusal:
        raise ApiError(409, str(refusal)) from refusal
