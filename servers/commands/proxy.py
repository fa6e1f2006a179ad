"""The proxy container (`panel-proxy`, Caddy) on each web server. Pure builders."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from servers.commands.docker import NETWORK

CONTAINER = "panel-proxy"
NEXT = "panel-proxy-next"  # a replacement while it is made ready
PREVIOUS = "panel-proxy-previous"  # the one it replaces, kept until the new one answers
DEFAULT_IMAGE = "caddy:2"
ADMIN_PORT = 2019
CONFIG_VOLUME = "panel-proxy-config"
DATA_VOLUME = "panel-proxy-data"
CONFIG_PATH_IN_CONTAINER = "/etc/caddy/panel.json"
HTTP_SERVER = "panel"
HTTPS_SERVER = "panel_tls"


@dataclass(frozen=True)
class AdminRequest:
    """One call to Caddy's admin API: method, path and JSON body."""

    method: str
    path: str
    body: bytes = b""

    @classmethod
    def json(cls, method: str, path: str, payload: object) -> AdminRequest:
        return cls(method, path, json.dumps(payload).encode())


def initial_config() -> dict[str, object]:
    """Caddy's first config: the admin API (reachable only through the host's loopback, see
    `run`) and an HTTP server whose routes deploys fill in through that API."""
    return {
        "admin": {
            "listen": f"0.0.0.0:{ADMIN_PORT}",
            "origins": [f"127.0.0.1:{ADMIN_PORT}", f"localhost:{ADMIN_PORT}"],
        },
        "apps": {
            "http": {
                "servers": {
                    HTTP_SERVER: {
                        "listen": [":80"],
                        "routes": [fallback_route()],
                        # HTTPS per domain comes with TLS settings; until then plain HTTP only.
                        "automatic_https": {"disable": True},
                    }
                }
            }
        },
    }


FALLBACK_ROUTE_ID = "panel-fallback"


def https_server() -> dict[str, object]:
    """The :443 server: routes of apps with TLS; Caddy gets a certificate for each of their
    domains. Redirects from HTTP are the panel's own routes on the :80 server."""
    return {
        "listen": [":443"],
        "routes": [],
        "tls_connection_policies": [{}],
        "automatic_https": {"disable_redirects": True},
    }


def tls_automation(issuer: str) -> dict[str, object]:
    """Certificates from Let's Encrypt ("acme") or from Caddy's own CA ("internal")."""
    return {"automation": {"policies": [{"issuers": [{"module": issuer}]}]}}


def fallback_route() -> dict[str, object]:
    """Last route: a host no app claims gets a plain 404, not Caddy's empty 200."""
    return {
        "@id": FALLBACK_ROUTE_ID,
        "handle": [
            {
                "handler": "static_response",
                "status_code": 404,
                "body": "No app is served at this address.\n",
            }
        ],
    }


def config_json() -> bytes:
    return json.dumps(initial_config(), indent=2, sort_keys=True).encode()


def config_hash(image: str) -> str:
    return hashlib.sha256(image.encode() + b"\0" + config_json()).hexdigest()[:16]


def inspect(name: str = CONTAINER) -> list[str]:
    """`<running> <config label>` of the proxy, or nothing (and no error) when there is none."""
    template = '{{.State.Running}} {{index .Config.Labels "panel.proxy-config"}}'
    script = 'docker ps --all --quiet --filter "name=^$0$" | xargs -r docker inspect --format "$1"'
    return ["sh", "-c", script, name, template]


def create(image: str, config_file: str, name: str = CONTAINER) -> list[str]:
    """Caddy, created and not started: ports 80/443 public, the admin API on the host's
    loopback only, config and certificates on volumes (so a replacement resumes the routes
    deploys added through the admin API), restarted unless stopped."""
    return [
        "docker", "create",
        "--name", name,
        "--network", NETWORK,
        "--restart", "unless-stopped",
        "--publish", "80:80",
        "--publish", "443:443",
        "--publish", "443:443/udp",
        "--publish", f"127.0.0.1:{ADMIN_PORT}:{ADMIN_PORT}",
        "--volume", f"{CONFIG_VOLUME}:/config",
        "--volume", f"{DATA_VOLUME}:/data",
        "--volume", f"{config_file}:{CONFIG_PATH_IN_CONTAINER}:ro",
        "--label", f"panel.proxy-config={config_hash(image)}",
        "--label", "panel.role=proxy",
        image,
        "caddy", "run", "--resume", "--config", CONFIG_PATH_IN_CONTAINER,
    ]  # fmt: skip


def start(name: str = CONTAINER) -> list[str]:
    return ["docker", "start", name]


def stop(name: str = CONTAINER) -> list[str]:
    return ["docker", "stop", "--time", "10", name]


def rename(name: str, new_name: str) -> list[str]:
    return ["docker", "rename", name, new_name]


def remove(name: str = CONTAINER) -> list[str]:
    return ["docker", "rm", "--force", name]


def has_image(image: str) -> list[str]:
    return ["docker", "image", "inspect", "--format", "{{.Id}}", image]


def pull(image: str) -> list[str]:
    return ["docker", "pull", "--quiet", image]
