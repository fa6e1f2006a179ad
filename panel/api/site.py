"""The API as one django-ninja site: its routers, its body parser and its error answers."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Router, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.operation import Operation
from ninja.parser import Parser

from panel.api.auth import ApiError, TokenAuth, error, signed_in_or_token, unauthorized
from panel.validators import unsafe_label

MAX_BODY_BYTES = 64 * 1024
BODY_PROBLEM = "api_body_problem"


class BodyParser(Parser):
    """JSON objects of at most 64 KiB; what is wrong with another body is kept on the
    request for the answer (the parser's own exception is reworded by the framework)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        problem = _body_problem(request)
        if isinstance(problem, dict):
            return problem
        setattr(request, BODY_PROBLEM, problem)
        raise ValueError(problem[1])


def _body_problem(request: HttpRequest) -> dict[str, Any] | tuple[int, str]:
    try:
        if len(request.body) > MAX_BODY_BYTES:
            return 413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB."
        document = json.loads(request.body)
    except RequestDataTooBig:
        return 413, "The body is too large."
    except (json.JSONDecodeError, UnicodeDecodeError) as failure:
        return 400, f"The body is not JSON: {failure}."
    except RecursionError:
        return 400, "The body is nested too deeply."
    if not isinstance(document, dict):
        return 400, "The body must be a JSON object."
    return document


class PanelApi(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """The view's name (app_deploy), the same wherever its module moves."""
        return operation.view_func.__name__


def new_api(routers: list[Router]) -> NinjaAPI:
    api = PanelApi(
        title="Panel API",
        version="1",
        description="Every resource a team manages in the panel. Send an API token (Account → "
        "API tokens) as `Authorization: Bearer pnl_…`; its scope and your role in the team "
        "both limit what it may do (`x-panel-action` names what each operation needs).",
        urls_namespace="api",
        auth=TokenAuth(),
        docs_decorator=signed_in_or_token,
        parser=BodyParser(),
        docs=Swagger(settings={"showExtensions": True, "persistAuthorization": True}),
    )
    for router in routers:
        api.add_router("", router)
    api.exception_handler(ApiError)(lambda _, failure: _answer(failure))
    api.exception_handler(SchemaError)(lambda _, failure: _invalid(failure))
    api.exception_handler(AuthenticationError)(lambda _, __: unauthorized())
    api.exception_handler(HttpError)(_http_error)
    api.exception_handler(PermissionDenied)(lambda _, denied: error(403, str(denied) or "No."))
    api.exception_handler(Http404)(lambda _, missing: error(404, str(missing) or "Not found."))
    api.exception_handler(RequestDataTooBig)(lambda _, __: error(413, "The body is too large."))
    return api


def urls(api: NinjaAPI) -> tuple[list[Any], str, str]:
    """The API's URL patterns, each refusing query parameters its operation does not take
    (a misspelt filter would otherwise be ignored and list everything)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = _known_query_only(
            api, cast(Callable[..., HttpResponse], pattern.callback)
        )
    return patterns, app_name, namespace


def _known_query_only(api: NinjaAPI, view: Callable[..., HttpResponse]) -> Callable[..., Any]:
    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        match = request.resolver_match
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", "/" + match.route) if match else ""
        taken = _query_names(api).get((route, (request.method or "").lower()))
        unknown = sorted(set(request.GET) - taken) if taken is not None else []
        if unknown:
            names = ", ".join(unsafe_label(name) for name in unknown)
            return error(400, f"Unknown query parameter: {names}.", {names: "unknown"})
        return view(request, *args, **kwargs)

    return checked


@functools.cache
def _query_names(api: NinjaAPI) -> dict[tuple[str, str], set[str]]:
    document = api.get_openapi_schema()
    return {
        (route, method): {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        for route, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def _answer(failure: ApiError) -> JsonResponse:
    return error(failure.status, failure.message, failure.fields)


def _invalid(failure: SchemaError) -> JsonResponse:
    problems: dict[str, list[str]] = {}
    for problem in failure.errors:
        name = unsafe_label(_field_of(problem))
        problems.setdefault(name, []).append(str(problem.get("msg", "is not valid")))
    fields = {name: " or ".join(texts) for name, texts in problems.items()}
    message = "; ".join(f"{name}: {text}" for name, text in fields.items())
    return error(400, message or "The request is not valid.", fields)


def _field_of(problem: dict[str, Any]) -> str:
    """`("body", "payload", "tag")` → tag; `("query", "limit")` → limit."""
    place = [str(part) for part in problem.get("loc", ()) if not isinstance(part, int)]
    if place[:1] == ["body"]:
        place = place[2:] or ["body"]
    elif place:
        place = place[1:] or place
    return place[0] if place else "body"


def _http_error(request: HttpRequest, failure: HttpError) -> JsonResponse:
    problem = getattr(request, BODY_PROBLEM, None)
    return error(*problem) if problem else error(failure.status_code, str(failure))
