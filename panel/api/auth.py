"""Bearer-token authentication and JSON errors for the API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from panel.api import tokens
from panel.audit import Actor
from panel.permissions import Action, can
from panel.requests import ApiRequest, client_ip

View = Callable[..., HttpResponse]
API_PREFIX = "/api/"


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


def api_view(methods: tuple[str, ...]) -> Callable[[View], View]:
    """Token auth, allowed methods, and every failure as JSON with the right status."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return error(405, f"Use {' or '.join(methods)}.")
            header = request.headers.get("Authorization", "")
            scheme, _, secret = header.partition(" ")
            token = tokens.find(secret.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                return error(
                    401, "A valid, unexpired API token is needed (Authorization: Bearer …)."
                )
            api_request = cast(ApiRequest, request)
            api_request.api_token = token
            api_request.user = token.user
            try:
                return view(api_request, *args, **kwargs)
            except ApiError as failure:
                return error(failure.status, failure.message, failure.fields)
            except RequestDataTooBig:
                return error(413, "The body is too large.")
            except PermissionDenied as denied:
                return error(403, str(denied) or "Not allowed.")
            except Http404 as missing:
                return error(404, str(missing) or "Not found.")

        return wrapper

    return decorate


def require_api(request: ApiRequest, team_id: int, action: Action) -> None:
    """Both the token's scope and the user's role in the team must allow the action."""
    token = request.api_token
    if not tokens.allows(token, action):
        raise ApiError(403, f"This token's scope ({token.scope}) does not allow {action}.")
    if not can(token.user, team_id, action):
        raise ApiError(403, f"Your role does not allow {action}.")


def actor_of(request: ApiRequest) -> Actor:
    return Actor.for_token(request.api_token, ip=client_ip(request))
