"""The metrics endpoint: `GET /api/v1/metrics` with an API token (any scope), the latest
samples of every server of the token's teams, for Prometheus to scrape."""

from __future__ import annotations

from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitoring.exposition import registry_for
from panel.api import tokens
from panel.api.auth import ApiError, api_view
from panel.permissions import Action, teams_of
from panel.requests import ApiRequest


@api_view(("GET",))
def metrics(request: ApiRequest) -> HttpResponse:
    if not tokens.allows(request.api_token, Action.VIEW):
        raise ApiError(403, "This token may not read.")
    body = generate_latest(registry_for(teams_of(request.user)))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
