"""Alerts over the API (list, acknowledge, silence) and the metrics for Prometheus."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Router, Schema
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitoring import services
from monitoring.exposition import registry_for
from monitoring.models import Alert
from panel.api.auth import actor_of, needs, require_scope
from panel.api.bodies import StrictBody
from panel.api.lookup import TEAM, by_pk, in_teams
from panel.api.pages import paged
from panel.permissions import Action, teams_of
from panel.requests import ApiRequest

router = Router(tags=["alerts"])
ALERTS = Alert.objects.select_related("team", "server", "acknowledged_by")


class AlertOut(Schema):
    id: int
    team: str = Field(alias="team.slug")
    kind: str
    server: str | None = Field(None, alias="server.name")
    subject: str
    title: str
    detail: str
    opened_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None = Field(None, alias="acknowledged_by.username")
    silenced_until: datetime | None


class SilenceBody(StrictBody):
    span: Literal["1h", "1d", "7d"]


@router.get("/alerts", response=list[AlertOut], openapi_extra=needs(Action.VIEW))
@paged(moment="opened_at")
def alert_list(request: ApiRequest, team: str | None = TEAM, resolved: bool | None = None) -> Any:
    alerts = in_teams(request, ALERTS, team)
    if resolved is not None:
        alerts = alerts.filter(resolved_at__isnull=not resolved)
    return alerts


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response=AlertOut,
    openapi_extra=needs(Action.ACKNOWLEDGE_ALERTS),
)
def alert_acknowledge(request: ApiRequest, alert_id: int) -> Any:
    alert = by_pk(request, ALERTS, alert_id, Action.ACKNOWLEDGE_ALERTS)
    services.acknowledge(actor_of(request), alert)
    alert.refresh_from_db()
    return alert


@router.post(
    "/alerts/{alert_id}/silence", response=AlertOut, openapi_extra=needs(Action.ACKNOWLEDGE_ALERTS)
)
def alert_silence(request: ApiRequest, alert_id: int, body: SilenceBody) -> Any:
    """It notifies nobody for that long; it stays open."""
    alert = by_pk(request, ALERTS, alert_id, Action.ACKNOWLEDGE_ALERTS)
    services.silence(actor_of(request), alert, body.span)
    alert.refresh_from_db()
    return alert


@router.get(
    "/metrics",
    openapi_extra=needs(Action.VIEW, streams=("text/plain",)),
)
def metrics(request: ApiRequest) -> HttpResponse:
    """The latest samples of every server of the token's teams, for Prometheus to scrape."""
    require_scope(request, Action.VIEW)
    body = generate_latest(registry_for(teams_of(request.user)))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
