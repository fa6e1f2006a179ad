"""Where a release runs: one placement per role and server, and the command that starts it."""

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
        release=str(release.pk) if release.pk else "<release>",
        env_path=placement.env_path(home, app.name),
        env_names=sorted(placement.env),
        volumes=list(app.volumes),
        command=placement.command,
    )
