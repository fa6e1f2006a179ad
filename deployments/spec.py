"""What a deploy of an app needs from the database, read once into plain values for the
planner: servers per role, variable names, the containers running now, how the image reaches
each server. The plan page and the deploy job both read it here."""

from __future__ import annotations

import secrets
import shlex
from dataclasses import dataclass, replace

from deployments import git
from deployments.commands import containers
from deployments.env import build_arg_names, build_secret_names, env_names
from deployments.models import App, Container, Role
from deployments.planner import BuildSpec, DeploySpec, OneOff, Placement, container_name
from panel.fields import is_set
from servers.models import Server
from servers.plans import Host, Route

COMMIT = "<commit>"


@dataclass(frozen=True)
class Image:
    """What is deployed: the version, the image reference to run, and for a build from git
    the commit to build it from ("" when the image exists already)."""

    version: str
    reference: str
    build_commit: str = ""


def new_nonce() -> str:
    return secrets.token_hex(3)


def host_of(server: Server) -> Host:
    return Host(server.pk, server.name)


def route_of(app: App) -> Route:
    return Route(app.pk.hex, tuple(app.domains), app.tls, app.redirect_http)


def roles_of(app: App, only: set[str] | None = None) -> list[Role]:
    roles = list(app.roles.prefetch_related("servers__ssh_key").order_by("name"))
    return [role for role in roles if not only or role.name in only]


def deploy_spec(
    app: App,
    image: Image,
    *,
    nonce: str,
    only_roles: set[str] | None = None,
    hooks: bool = True,
) -> DeploySpec:
    """The spec of deploying `image` to the app's roles (or some of them, without hooks)."""
    roles = roles_of(app, only_roles)
    running = list(Container.objects.filter(release__app=app, running=True))
    placements = tuple(
        Placement(
            host=host_of(server),
            role=role.name,
            proxied=role.proxied,
            command=tuple(shlex.split(role.command)) if role.command else (),
            env_names=tuple(env_names(app, role.name)),
            name=container_name(app.name, role.name, image.version, nonce),
            previous=tuple(
                c.name for c in running if c.server_id == server.pk and c.role == role.name
            ),
        )
        for role in roles
        for server in role.servers.all()
    )
    registry = containers.registry_of(image.reference) or ""
    has_login = bool(registry and app.registry_username and is_set(app, "registry_password"))
    builder = build_server(app, roles) if app.git_url else None
    copied = builder is not None and not has_login
    hook_place = one_off_place(app, roles) if hooks and not only_roles else None
    return DeploySpec(
        app=app.name,
        route=route_of(app),
        image=image.reference,
        version=image.version,
        registry=registry if has_login else "",
        registry_user=app.registry_username if has_login else "",
        push=builder is not None and has_login,
        source=host_of(builder) if copied and builder is not None else None,
        port=app.container_port,
        health_path=app.health_path,
        health_interval=app.health_interval,
        health_timeout=app.health_timeout,
        deploy_timeout=float(app.deploy_timeout),
        drain_timeout=float(app.drain_timeout),
        stop_timeout=app.stop_timeout,
        volumes=tuple(app.volumes),
        placements=placements,
        build=_build(app, image, builder) if builder is not None and image.build_commit else None,
        pre_deploy=_hook(hook_place, app.pre_deploy_command),
        post_deploy=_hook(hook_place, app.post_deploy_command),
        record_digest=bool(registry) and not app.git_url and "@sha256:" not in image.reference,
        nonce=nonce,
    )


def running_spec(app: App) -> DeploySpec:
    """The live release's running containers, as placements (for start and stop)."""
    release = app.current_release
    assert release is not None
    rows = Container.objects.filter(release=release, running=True).select_related("server")
    placements = tuple(
        Placement(host_of(row.server), row.role, row.role == "web", (), (), row.name)
        for row in rows
    )
    spec = deploy_spec(app, Image(release.version, release.run_image), nonce="", hooks=False)
    return replace(spec, placements=placements)


def servers_of(app: App, *, builder: bool = True) -> list[Server]:
    """The servers of an app's roles, and its build server unless `builder` is False."""
    servers = {s.pk: s for s in Server.objects.filter(roles__app=app).select_related("ssh_key")}
    if builder and app.build_server is not None:
        servers[app.build_server.pk] = app.build_server
    return sorted(servers.values(), key=lambda server: server.name)


def build_server(app: App, roles: list[Role]) -> Server | None:
    """Who builds: the app's build server, else the first web server, else the first server."""
    if app.build_server is not None:
        return app.build_server
    ordered = sorted(roles, key=lambda role: not role.proxied)
    return next((server for role in ordered for server in role.servers.all()), None)


def one_off_place(app: App, roles: list[Role]) -> tuple[Role, Server] | None:
    """The role and server one-off containers run on: the first web server, else the first
    server of any role."""
    for role in sorted(roles, key=lambda r: not r.proxied):
        servers = list(role.servers.all())
        if servers:
            return role, servers[0]
    return None


def _hook(place: tuple[Role, Server] | None, command: str) -> OneOff | None:
    if place is None or not command:
        return None
    role, server = place
    names = tuple(env_names(role.app, role.name))
    return OneOff(host_of(server), role.name, names, tuple(shlex.split(command)))


def _build(app: App, image: Image, builder: Server) -> BuildSpec:
    return BuildSpec(
        builder=host_of(builder),
        archive=tuple(git.archive_argv(app, image.build_commit)),
        dockerfile=app.dockerfile,
        arg_names=tuple(build_arg_names(app)),
        secret_names=tuple(build_secret_names(app)),
    )
