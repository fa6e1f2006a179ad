"""The OpenAPI document of /api/v1."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

ERROR = {"$ref": "#/components/responses/Error"}


def _operation(
    summary: str,
    ok: str,
    *,
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters or [],
        "responses": {
            ok: {"description": "OK", "content": {"application/json": {}}},
            "400": ERROR,
            "401": ERROR,
            "403": ERROR,
            "404": ERROR,
        },
    }
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    if ok == "202":
        operation["responses"]["409"] = ERROR
    return operation


NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
TEAM = {
    "name": "team",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "Team slug, when several of your teams have an app of that name.",
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Panel API", "version": "1"},
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "Error": {
                "description": "An error with a message",
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"error": {"type": "string"}}}
                    }
                },
            }
        },
    },
    "security": [{"token": []}],
    "paths": {
        "/api/v1/apps/{name}": {
            "get": _operation(
                "The app's current release, running containers and retained releases",
                "200",
                parameters=[NAME, TEAM],
            )
        },
        "/api/v1/apps/{name}/deploy": {
            "post": _operation(
                "Deploy a tag of the app's image (default latest); for an app built from git, "
                "a ref: branch, tag or commit (default: the head of its branch)",
                "202",
                parameters=[NAME, TEAM],
                body={
                    "type": "object",
                    "properties": {"tag": {"type": "string"}, "ref": {"type": "string"}},
                },
            )
        },
        "/api/v1/apps/{name}/rollback": {
            "post": _operation(
                "Roll back to a retained release (id or version)",
                "202",
                parameters=[NAME, TEAM],
                body={
                    "type": "object",
                    "required": ["release"],
                    "properties": {"release": {"type": ["string", "integer"]}},
                },
            )
        },
        "/api/v1/metrics": {
            "get": {
                "summary": "The latest samples of the token's teams' servers and containers, "
                "in Prometheus' text format (any scope)",
                "parameters": [],
                "responses": {
                    "200": {"description": "OK", "content": {"text/plain": {}}},
                    "401": ERROR,
                    "403": ERROR,
                },
            }
        },
        "/api/v1/jobs/{id}": {
            "get": _operation(
                "A job's status and its log lines after a cursor",
                "200",
                parameters=[
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "after", "in": "query", "schema": {"type": "integer"}},
                ],
            )
        },
    },
}


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(DOCUMENT)
