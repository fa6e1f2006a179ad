"""Bearer-token authentication and JSON errors for the API."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from panel.api import tokens
from panel.audit import Actor
from panel.models import ApiToken
from panel.permissions import Action, can
from panel.requests import client_ip

View = Callable[..., HttpResponse]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
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
            request.api_token = token  # type: ignore[attr-defined]
            request.user = token.user
            try:
                return view(request, *args, **kwargs)
            except ApiError as failure:
                return error(failure.status, failure.message)
            except PermissionDenied as denied:
                return error(403, str(denied) or "Not allowed.")
            except Http404 as missing:
                return error(404, str(missing) or "Not found.")

        return wrapper

    return decorate


def require_api(request: HttpRequest, team_id: int, action: Action) -> None:
    """Both the token's scope and the user's role in the team must allow the action."""
    token: ApiToken = request.api_token  # type: ignore[attr-defined]
    if not tokens.allows(token, action):
        raise ApiError(403, f"This token's scope ({token.scope}) does not allow {action}.")
    if not can(token.user, team_id, action):
        raise ApiError(403, f"Your role does not allow {action}.")


def actor_of(request: HttpRequest) -> Actor:
    return Actor.for_token(request.api_token, ip=client_ip(request))  # type: ignore[attr-defined]


def json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as failure:
        raise ApiError(400, f"The body is not JSON: {failure}.") from failure
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return body
