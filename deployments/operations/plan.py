"""What a deploy will do on each server: the placements, and the exact commands (the plan)."""

from __future__ import annotations

import posixpath
import re
import secrets
import shlex
from dataclasses import dataclass, field

from deployments.commands import containers
from deployments.models import App, Release, Role
from deployments.services import env_for_role
from servers.models import Server

NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")


@dataclass
class Placement:
    """One new container: a role of the release on one server."""

    server: Server
    role: str
    proxied: bool
    command: list[str]
    name: str
    env: dict[str, str] = field(repr=False)
    address: str = ""
    previous: list[str] = field(default_factory=list)

    def env_path(self, home: str, app: str) -> str:
        return posixpath.join(home, ".panel", "apps", app, f"{self.role}.env")


def container_name(app: App, role: str, version: str) -> str:
    tag = NAME_UNSAFE.sub("-", version)[:40]
    return f"{app.name}-{role}-{tag}-{secrets.token_hex(3)}"


def placements(app: App, release: Release, roles: list[Role] | None = None) -> list[Placement]:
    chosen = roles if roles is not None else list(app.roles.prefetch_related("servers__ssh_key"))
    result = []
    for role in chosen:
        env = {key: value.reveal() for key, value in env_for_role(app, role.name).items()}
        for server in role.servers.all():
            result.append(
                Placement(
                    server=server,
                    role=role.name,
                    proxied=role.proxied,
                    command=shlex.split(role.command) if role.command else [],
                    name=container_name(app, role.name, release.version),
                    env=env,
                )
            )
    return result


def run_command(app: App, release: Release, placement: Placement, home: str) -> list[str]:
    return containers.run(
        name=placement.name,
        image=release.image,
        app=app.name,
        role=placement.role,
        release=str(release.pk),
        env_path=placement.env_path(home, app.name),
        env_names=sorted(placement.env),
        volumes=list(app.volumes),
        command=placement.command,
    )


def describe(app: App, release: Release) -> dict[str, list[str]]:
    """The commands per server, as the job log will show them (no secret is in them)."""
    plan: dict[str, list[str]] = {}
    registry = containers.registry_of(release.image)
    for placement in placements(app, release):
        home = f"~{placement.server.user}"
        lines = plan.setdefault(f"{placement.server.name} ({placement.server.address})", [])
        if registry and app.registry_username and not lines:
            lines.append(
                shlex.join(containers.login(registry, app.registry_username))
                + "   # password on stdin"
            )
        if not any(line.startswith("docker pull") for line in lines):
            lines.append(shlex.join(containers.pull(release.image)))
        lines.append(
            f"write {placement.env_path(home, app.name)} (mode 0600, over SFTP): "
            f"{', '.join(sorted(placement.env)) or 'no variables'}"
        )
        lines.append(shlex.join(run_command(app, release, placement, home)))
        if placement.proxied:
            lines.append(
                f"health check: GET {app.health_path} on port {app.container_port} "
                f"until 2xx (at most {app.deploy_timeout}s)"
            )
            lines.append(
                "proxy: point the route at the new container, drain "
                f"{app.drain_timeout}s, stop the old one"
            )
        else:
            lines.append(
                "wait until running (and healthy, if the image has a health check); "
                "stop the old one"
            )
    return plan
