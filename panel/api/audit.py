"""The audit log over the API: filter it, export it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import StreamingHttpResponse
from ninja import Field, Query, Router, Schema

from panel.api.auth import needs
from panel.api.bodies import valid
from panel.api.lookup import TEAM, team_for
from panel.api.pages import paged
from panel.forms import AuditFilterForm, form_data
from panel.permissions import Action
from panel.requests import ApiRequest
from panel.views.audit import export, filtered_events

router = Router(tags=["audit"])


class AuditFilter(Schema):
    actor: str | None = Field(None, max_length=200, description="Part of the actor's name")
    action: str | None = Field(None, max_length=64, description="e.g. app.update, job.")
    target: str | None = Field(None, max_length=200, description="Part of the target's name")
    since: datetime | None = None
    until: datetime | None = None


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor_type: str
    actor: str = Field(alias="actor_label")
    action: str
    target_type: str
    target_id: str
    target: str = Field(alias="target_label")
    ip: str | None
    details: dict[str, Any]


@router.get("/audit", response=list[AuditEventOut], openapi_extra=needs(Action.VIEW))
@paged(moment="at")
def audit_list(request: ApiRequest, filters: Query[AuditFilter], team: str | None = TEAM) -> Any:
    """Newest first; `details.changes` holds each changed field's before and after."""
    chosen = team_for(request, team, Action.VIEW)
    return filtered_events(chosen, _form(filters))


@router.get(
    "/audit/export",
    openapi_extra=needs(Action.EXPORT_AUDIT, streams=("text/csv", "application/json")),
)
def audit_export(
    request: ApiRequest,
    filters: Query[AuditFilter],
    format: Literal["csv", "json"] = "json",
    team: str | None = TEAM,
) -> StreamingHttpResponse:
    """Every matching event, oldest first, with its hash in the chain."""
    chosen = team_for(request, team, Action.EXPORT_AUDIT)
    return export(chosen, filtered_events(chosen, _form(filters)), format)


def _form(filters: AuditFilter) -> AuditFilterForm:
    form = AuditFilterForm(form_data(filters.model_dump()))
    valid(form)
    return form
