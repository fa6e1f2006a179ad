"""Caddy admin API requests for an app's route on a server's proxy. Pure: they return
AdminRequests and route entries, and run nothing."""

from __future__ import annotations

import json
from typing import Any

from servers.commands.proxy import HTTP_SERVER, HTTPS_SERVER, AdminRequest
from servers.plans import Route

MAINTENANCE_PAGE = (
    "<!doctype html><title>Down for maintenance</title>"
    "<h1>Down for maintenance</h1><p>This site is stopped for now. Please come back soon.</p>"
)


def route_id(app_id: str, server: str = HTTP_SERVER) -> str:
    return f"panel-app-{app_id}" + ("-tls" if server == HTTPS_SERVER else "")


def proxy_handler(upstream: str) -> list[dict[str, object]]:
    return [{"handler": "reverse_proxy", "upstreams": [{"dial": upstream}]}]


def redirect_to_https_handler() -> list[dict[str, object]]:
    return [
        {
            "handler": "static_response",
            "status_code": 308,
            "headers": {"Location": ["https://{http.request.host}{http.request.uri}"]},
        }
    ]


def maintenance_handler() -> list[dict[str, object]]:
    return [
        {
            "handler": "static_response",
            "status_code": 503,
            "headers": {"Content-Type": ["text/html; charset=utf-8"], "Retry-After": ["60"]},
            "body": MAINTENANCE_PAGE,
        }
    ]


def get_route(app_id: str, server: str = HTTP_SERVER) -> AdminRequest:
    return AdminRequest("GET", f"/id/{route_id(app_id, server)}")


def entries_for(route: Route, upstream: str, remove: bool) -> dict[str, dict[str, Any] | None]:
    """What the route is on each proxy server (None: no route there) when it sends to
    `upstream` (empty: the maintenance page). With TLS, :443 serves and :80 redirects to it,
    unless the app asks otherwise; a maintenance page is shown on both."""
    if remove:
        return {HTTP_SERVER: None, HTTPS_SERVER: None}
    handle = proxy_handler(upstream) if upstream else maintenance_handler()
    match = [{"host": list(route.domains)}]
    if not route.tls:
        return {HTTP_SERVER: {"match": match, "handle": handle}, HTTPS_SERVER: None}
    plain = redirect_to_https_handler() if route.redirect_http and upstream else handle
    return {
        HTTPS_SERVER: {"match": match, "handle": handle},
        HTTP_SERVER: {"match": match, "handle": plain},
    }


def add_route(app_id: str, entry: dict[str, Any], server: str = HTTP_SERVER) -> AdminRequest:
    route = {"@id": route_id(app_id, server), **entry, "terminal": True}
    routes_path = f"/config/apps/http/servers/{server}/routes"
    if server == HTTP_SERVER:  # inserted first: before the catch-all 404 of the :80 server
        return AdminRequest("PUT", f"{routes_path}/0", json.dumps(route).encode())
    return AdminRequest("POST", routes_path, json.dumps(route).encode())


def set_handle(
    app_id: str, handle: list[dict[str, object]], server: str = HTTP_SERVER
) -> AdminRequest:
    path = f"/id/{route_id(app_id, server)}/handle"
    return AdminRequest("PATCH", path, json.dumps(handle).encode())


def set_match(app_id: str, match: list[dict[str, Any]], server: str = HTTP_SERVER) -> AdminRequest:
    return AdminRequest(
        "PATCH", f"/id/{route_id(app_id, server)}/match", json.dumps(match).encode()
    )


def delete_route(app_id: str, server: str = HTTP_SERVER) -> AdminRequest:
    return AdminRequest("DELETE", f"/id/{route_id(app_id, server)}")
