"""The API's front door: bearer tokens, the scope and role checks, and every failure as
`{"error": sentence, "fields": {name: problem}}` with the right status."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.security import HttpBearer

from panel.api import tokens
from panel.audit import Actor
from panel.models import ApiToken
from panel.permissions import Action, can
from panel.requests import ApiRequest, client_ip

API_PREFIX = "/api/"
API_DOCS = "/api/v1/docs"
ACTION_KEY = "x-panel-action"


class ApiError(Exception):
    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields


def error(status: int, message: str, fields: dict[str, str] | None = None) -> JsonResponse:
    """Every API error: `{"error": sentence}`, plus `fields` (name → problem) for bad input."""
    document: dict[str, Any] = {"error": message}
    if fields:
        document["fields"] = fields
    response = JsonResponse(document, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="panel"'
    return response


class TokenAuth(HttpBearer):
    """A usable token (known, unrevoked, unexpired, its user active) signs the request."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = tokens.find(token.strip())
        if found is not None:
            api_request = cast(ApiRequest, request)
            api_request.api_token = found
            api_request.user = found.user
        return found


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "What went wrong, as a sentence"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["error"],
}
ERRORS = {
    400: "The request is not valid; `fields` names each problem",
    401: "No valid token",
    403: "The token's scope or your role does not allow this",
    404: "Not found in your teams",
    409: "It conflicts with the current state (a job running, a link using it…)",
    413: "The body is too large",
    422: "The Idempotency-Key was sent with another request",
}


TEXT = {"type": "string"}
_STREAMED = {
    "text/event-stream": {
        "type": "object",
        "properties": {"event": TEXT, "data": {**TEXT, "description": "JSON"}},
        "required": ["event", "data"],
    },
    "application/json": {"type": "array", "items": {"type": "object"}},
}


def needs(action: Action, streams: tuple[str, ...] = ()) -> dict[str, Any]:
    """The operation's OpenAPI extra: what scope and role it needs, its error answers, and
    for an answer that is not JSON, its type."""
    answers: dict[Any, Any] = {
        status: {"description": text, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
        for status, text in ERRORS.items()
    }
    if streams:
        answers[200] = {
            "content": {kind: {"schema": _STREAMED.get(kind, TEXT)} for kind in streams}
        }
    return {ACTION_KEY: action.value, "responses": answers}


def require_api(request: ApiRequest, team_id: int, action: Action) -> None:
    """Both the token's scope and the user's role in the team must allow the action."""
    token = request.api_token
    if not tokens.allows(token, action):
        raise ApiError(403, f"This token's scope ({token.scope}) does not allow {action}.")
    if not can(token.user, team_id, action):
        raise ApiError(403, f"Your role does not allow {action}.")


def require_scope(request: ApiRequest, action: Action) -> None:
    """For lists across the token's teams: the scope alone (each row is a team's own)."""
    token = request.api_token
    if not tokens.allows(token, action):
        raise ApiError(403, f"This token's scope ({token.scope}) does not allow {action}.")


def actor_of(request: ApiRequest) -> Actor:
    return Actor.for_token(request.api_token, ip=client_ip(request))


def unauthorized() -> JsonResponse:
    return error(401, "A valid, unexpired API token is needed (Authorization: Bearer …).")


def signed_in_or_token(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The docs page for a signed-in person; its schema also for a token (CI reads it)."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and tokens.find(secret.strip()) is not None:
            return view(request, *args, **kwargs)
        if request.path.startswith(API_DOCS):
            return redirect_to_login(request.get_full_path())
        return unauthorized()

    return guarded
