"""How the panel is served: one rule for the client address, whatever server runs it.

The servers' own proxy-header handling is off everywhere (uvicorn trusts X-Forwarded-For from
127.0.0.1 by default, so any local hop would let a client choose its address). The address is
read in one place, `panel.requests.client_ip`, which honours X-Forwarded-For only through the
number of proxies the operator configured (PANEL_TRUSTED_PROXY_COUNT).
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker as BaseUvicornWorker

UVICORN_OPTIONS = ["--no-proxy-headers", "--no-server-header"]


class UvicornWorker(BaseUvicornWorker):  # type: ignore[misc]
    """gunicorn's worker class for the panel: `gunicorn -k panel.serving.UvicornWorker`."""

    CONFIG_KWARGS: dict[str, Any] = {
        **BaseUvicornWorker.CONFIG_KWARGS,
        "proxy_headers": False,
        "server_header": False,
    }
