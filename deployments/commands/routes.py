"""Caddy admin API requests for an app's route. Pure: they return AdminRequests."""

from __future__ import annotations

import json

from servers.commands.proxy import HTTP_SERVER, HTTPS_SERVER, AdminRequest

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


def add_route(
    app_id: str, domains: list[str], handle: list[dict[str, object]], server: str = HTTP_SERVER
) -> AdminRequest:
    route = {
        "@id": route_id(app_id, server),
        "match": [{"host": domains}],
        "handle": handle,
        "terminal": True,
    }
    routes_path = f"/config/apps/http/servers/{server}/routes"
    if server == HTTP_SERVER:  # inserted first: before the catch-all 404 of the :80 server
        return AdminRequest("PUT", f"{routes_path}/0", json.dumps(route).encode())
    return AdminRequest("POST", routes_path, json.dumps(route).encode())


def set_handle(
    app_id: str, handle: list[dict[str, object]], server: str = HTTP_SERVER
) -> AdminRequest:
    path = f"/id/{route_id(app_id, server)}/handle"
    return AdminRequest("PATCH", path, json.dumps(handle).encode())


def set_domains(app_id: str, domains: list[str], server: str = HTTP_SERVER) -> AdminRequest:
    body = json.dumps([{"host": domains}]).encode()
    return AdminRequest("PATCH", f"/id/{route_id(app_id, server)}/match", body)


def delete_route(app_id: str, server: str = HTTP_SERVER) -> AdminRequest:
    return AdminRequest("DELETE", f"/id/{route_id(app_id, server)}")
