"""Apps of the lab's registry image on lab servers: made and removed for tests and benchmarks."""

from __future__ import annotations

import asyncio

from deployments.models import App, Role
from panel.models import Team
from panel.sensitive import Sensitive
from servers import ssh
from servers.commands import proxy, routes
from servers.models import Server
from servers.proxy_api import admin
from servers.targets import target_for
from tests.lab.lab import Lab


def new_app(
    team: Team, lab: Lab, name: str, servers: list[Server], domain_suffix: str, **fields: object
) -> App:
    """An app of the lab registry's image, its web role on `servers`, short timeouts."""
    app = App(
        team=team,
        name=name,
        image=lab.app_images["v1"].rsplit(":", 1)[0],
        registry_username=lab.registry_user,
        domains=[f"{name}.{domain_suffix}"],
        deploy_timeout=10,
        drain_timeout=1,
        stop_timeout=2,
        health_interval=0.2,
    )
    for key, value in fields.items():
        setattr(app, key, value)
    app.registry_password = Sensitive(lab.registry_password)
    app.save()
    Role.objects.create(app=app, name="web").servers.set(servers)
    return app


def remove_from_servers(app: App, servers: list[Server]) -> None:
    for server in servers:
        target = target_for(server)
        for proxy_server in (proxy.HTTP_SERVER, proxy.HTTPS_SERVER):
            asyncio.run(admin(target, routes.delete_route(app.pk.hex, proxy_server)))
        listed = asyncio.run(
            ssh.run(target, ["docker", "ps", "-aq", "--filter", f"label=panel.app={app.name}"])
        )
        if names := listed.stdout.split():
            asyncio.run(ssh.run(target, ["docker", "rm", "-f", *names], check=False))
