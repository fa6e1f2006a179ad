"""HTTPS on the lab: Caddy's internal CA signs the domain's certificate; the test trusts that
CA only, and fetches the app through the proxy's port 443."""

from __future__ import annotations

import asyncio
import json
import ssl
import time

import pytest

from servers import ssh
from servers.commands import proxy
from servers.models import Server
from servers.proxy_api import admin
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp, fetch
from tests.deployments.test_deploy_lab import deploy_version

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def https_get(server: Server, domain: str, timeout: float = 20) -> bytes:
    target = target_for(server)
    root = json.loads(asyncio.run(admin(target, proxy.AdminRequest("GET", "/pki/ca/local"))).body)
    context = ssl.create_default_context(cadata=root["root_certificate"])

    async def once() -> bytes:
        async with ssh.tunnel(target, server.host, 443) as port:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=context, server_hostname=domain
            )
            writer.write(f"GET / HTTP/1.1\r\nHost: {domain}\r\nConnection: close\r\n\r\n".encode())
            data = await reader.read()
            writer.close()
            return data

    deadline = time.monotonic() + timeout
    while True:
        try:
            return asyncio.run(once())
        except (ssl.SSLError, ConnectionError, OSError):
            if time.monotonic() > deadline:  # the certificate is made when the route appears
                raise
            time.sleep(0.5)


def test_an_app_with_tls_is_served_over_https_and_http_redirects(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[0]
    app = make_app("secure", [server], tls=True)
    outcome, release = deploy_version(crew, app, "v1")
    assert outcome == "succeeded", release.log  # type: ignore[attr-defined]
    response = https_get(server, "secure.lab.test")
    assert response.startswith(b"HTTP/1.1 200") and response.rstrip().endswith(b"v1")
    status, _ = fetch(server, "secure.lab.test")
    assert status == 308
    outcome, release = deploy_version(crew, app, "v2")
    assert outcome == "succeeded"
    assert https_get(server, "secure.lab.test").rstrip().endswith(b"v2")
