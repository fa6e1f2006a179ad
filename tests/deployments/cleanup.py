"""Remove an app's route and containers from lab servers (test and benchmark teardown)."""

from __future__ import annotations

import asyncio

from deployments.commands import routes
from deployments.models import App
from deployments.operations.deploy import admin
from servers import services, ssh
from servers.commands import proxy
from servers.models import Server


def remove_from_servers(app: App, servers: list[Server]) -> None:
    for server in servers:
        target = services.target_for(server)
        for proxy_server in (proxy.HTTP_SERVER, proxy.HTTPS_SERVER):
            asyncio.run(admin(target, routes.delete_route(app.pk.hex, proxy_server)))
        listed = asyncio.run(
            ssh.run(target, ["docker", "ps", "-aq", "--filter", f"label=panel.app={app.name}"])
        )
        if names := listed.stdout.split():
            asyncio.run(ssh.run(target, ["docker", "rm", "-f", *names], check=False))
