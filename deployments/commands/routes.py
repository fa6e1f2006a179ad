"""Caddy admin API requests for an app's route. Pure: they return (method, path, body)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from servers.commands.proxy import HTTP_SERVER

MAINTENANCE_PAGE = (
    "<!doctype html><title>Down for maintenance</title>"
    "<h1>Down for maintenance</h1><p>This site is stopped for now. Please come back soon.</p>"
)


@dataclass(frozen=True)
class AdminRequest:
    method: str
    path: str
    body: bytes = b""


def route_id(app_id: str) -> str:
    return f"panel-app-{app_id}"


def proxy_handler(upstream: str) -> list[dict[str, object]]:
    return [{"handler": "reverse_proxy", "upstreams": [{"dial": upstream}]}]


def maintenance_handler() -> list[dict[str, object]]:
    return [
        {
            "handler": "static_response",
            "status_code": 503,
            "headers": {"Content-Type": ["text/html; charset=utf-8"], "Retry-After": ["60"]},
            "body": MAINTENANCE_PAGE,
        }
    ]


def get_route(app_id: str) -> AdminRequest:
    return AdminRequest("GET", f"/id/{route_id(app_id)}")


def add_route(app_id: str, domains: list[str], handle: list[dict[str, object]]) -> AdminRequest:
    route = {
        "@id": route_id(app_id),
        "match": [{"host": domains}],
        "handle": handle,
        "terminal": True,
    }
    # Inserted first: app routes come before the proxy's catch-all 404.
    path = f"/config/apps/http/servers/{HTTP_SERVER}/routes/0"
    return AdminRequest("PUT", path, json.dumps(route).encode())


def set_handle(app_id: str, handle: list[dict[str, object]]) -> AdminRequest:
    return AdminRequest("PATCH", f"/id/{route_id(app_id)}/handle", json.dumps(handle).encode())


def set_domains(app_id: str, domains: list[str]) -> AdminRequest:
    body = json.dumps([{"host": domains}]).encode()
    return AdminRequest("PATCH", f"/id/{route_id(app_id)}/match", body)


def delete_route(app_id: str) -> AdminRequest:
    return AdminRequest("DELETE", f"/id/{route_id(app_id)}")
