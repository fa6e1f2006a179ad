"""The deploy planner: pure. From what to deploy where (a DeploySpec of plain values) to the
ordered steps a deploy runs (`servers.plans`). The plan page renders this plan and the deploy
job runs this plan, so what a user previewed is what runs. Rollback, redeploy, restart, start,
stop and remove are plans of the same steps."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from deployments.commands import containers, paths
from servers.commands import host
from servers.plans import (
    Host,
    Pause,
    Phase,
    Pipe,
    Plan,
    PointRoute,
    Put,
    Route,
    Run,
    Skip,
    Starts,
    Step,
    WaitHealthy,
    lane,
)

BUILD = "Build"
PRE_DEPLOY = "Pre-deploy command"
START_WEB = "Start and health-check the web role"
START_OTHERS = "Start and check the other roles"
SWITCH = "Switch the proxy"
DRAIN = "Drain"
STOP_PREVIOUS = "Stop the previous containers"
POST_DEPLOY = "Post-deploy command"
REGISTRY_PASSWORD = "registry password"  # noqa: S105 (the name of a secret, not one)
PULL_TIMEOUT = 900.0
BUILD_TIMEOUT = 1800.0
ONE_OFF_TIMEOUT = 3600.0
NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")
# Docker's own words on login warn that the password is "stored unencrypted": it means the
# login file of this user on the server, which is what every docker login without a
# credential helper does. Said once, plainly, instead.
LOGIN_NOTE = (
    "Logged in. Docker keeps this login in ~/.docker/config.json of this user on the server "
    "(readable by this user only), as it does without a credential helper."
)


@dataclass(frozen=True)
class Placement:
    """One new container: a role of the release on one server."""

    host: Host
    role: str
    proxied: bool
    command: tuple[str, ...]
    env_names: tuple[str, ...]
    name: str
    previous: tuple[str, ...] = ()  # the role's running containers there, stopped after


@dataclass(frozen=True)
class BuildSpec:
    """A build from git: the panel streams the commit's archive into `docker build -`."""

    builder: Host
    archive: tuple[str, ...]  # the `git archive` the panel runs
    dockerfile: str
    arg_names: tuple[str, ...]
    secret_names: tuple[str, ...]


@dataclass(frozen=True)
class OneOff:
    """Where one-off containers run (hooks): a role's server, with the role's variables."""

    host: Host
    role: str
    env_names: tuple[str, ...]
    command: tuple[str, ...]


@dataclass(frozen=True)
class DeploySpec:
    app: str
    route: Route
    image: str  # the reference that is pulled and run
    version: str
    registry: str  # log in there before a pull or push ("" for none)
    registry_user: str
    push: bool  # a build pushes to the registry; else the image is copied server to server
    source: Host | None  # where a copied image comes from (the builder)
    port: int
    health_path: str
    health_interval: float
    health_timeout: float
    deploy_timeout: float
    drain_timeout: float
    stop_timeout: int
    volumes: tuple[str, ...]
    placements: tuple[Placement, ...]
    build: BuildSpec | None = None
    pre_deploy: OneOff | None = None
    post_deploy: OneOff | None = None
    record_digest: bool = False
    nonce: str = ""


def container_name(app: str, role: str, version: str, nonce: str) -> str:
    """`<app>-<role>-<version>-<nonce>`: the nonce is the plan's, so the preview names the
    very containers its deploy creates."""
    tag = NAME_UNSAFE.sub("-", version)[:40]
    return f"{app}-{role}-{tag}-{nonce}"


def env_content(role: str) -> str:
    """The name the runner is given a role's env file under."""
    return f"environment of {role}"


def build_content(name: str) -> str:
    return f"build secret {name}"


BUILD_ARGS_CONTENT = "build arguments"


def plan_deploy(spec: DeploySpec) -> Plan:
    """Build (from git), pre-deploy command, start the web role and wait for its health, then
    the other roles, switch every proxy, drain, stop what the new containers replaced."""
    phases: list[Phase] = []
    if spec.build is not None:
        phases.append(_build_phase(spec, spec.build))
    if spec.pre_deploy is not None:
        phases.append(_one_off_phase(spec, spec.pre_deploy, PRE_DEPLOY, with_pull=True))
    pulled: set[int] = {spec.pre_deploy.host.id} if spec.pre_deploy is not None else set()
    web = [p for p in spec.placements if p.proxied]
    others = [p for p in spec.placements if not p.proxied]
    for title, placements in ((START_WEB, web), (START_OTHERS, others)):
        if placements:
            phases.append(Phase(title, _start_lanes(spec, placements, pulled)))
    if web:
        phases.append(Phase(SWITCH, tuple(lane(_switch(spec, p)) for p in web)))
    previous = [(p, name) for p in spec.placements for name in p.previous]
    if previous:
        if spec.drain_timeout and any(p.proxied for p, _ in previous):
            phases.append(Phase(DRAIN, (lane(Pause(spec.drain_timeout, "in-flight requests")),)))
        stops = [
            lane(
                Run(
                    p.host,
                    tuple(containers.stop(name, spec.stop_timeout)),
                    f"stop {name}",
                    timeout=spec.stop_timeout + 30,
                    check=False,
                )
            )
            for p, name in previous
        ]
        phases.append(Phase(STOP_PREVIOUS, tuple(stops)))
    if spec.post_deploy is not None:
        phases.append(_one_off_phase(spec, spec.post_deploy, POST_DEPLOY, with_pull=False))
    return Plan(tuple(phases))


def plan_start(spec: DeploySpec) -> Plan:
    """Start the release's stopped containers, wait for their health, switch back to them."""
    lanes = []
    for placement in spec.placements:
        start = Run(placement.host, tuple(containers.start(placement.name)), "start")
        lanes.append(lane(start, health_gate(spec, placement)))
    phases = [Phase("Start the containers", tuple(lanes))]
    web = [p for p in spec.placements if p.proxied]
    if web:
        phases.append(Phase(SWITCH, tuple(lane(_switch(spec, p)) for p in web)))
    return Plan(tuple(phases))


def plan_stop(spec: DeploySpec) -> Plan:
    """The proxy shows a maintenance page, then the containers stop."""
    lanes: list[tuple[Step, ...]] = []
    for placement in spec.placements:
        maintenance = (
            PointRoute(placement.host, spec.route, "", title="maintenance page")
            if placement.proxied
            else None
        )
        stop = Run(
            placement.host,
            tuple(containers.stop(placement.name, spec.stop_timeout)),
            "stop",
            timeout=spec.stop_timeout + 30,
        )
        lanes.append(lane(maintenance, stop))
    return Plan((Phase("Stop", tuple(lanes)),))


def plan_remove(app: str, route: Route, hosts: list[Host]) -> Plan:
    """Off every server: its routes, its containers, its files."""
    lanes = [
        lane(
            PointRoute(server, route, remove=True, title="remove the route"),
            Run(server, tuple(containers.remove_all_for_app(app)), "remove the containers"),
            Run(server, tuple(host.remove_directory(paths.app_dir(app))), "remove the files"),
        )
        for server in hosts
    ]
    return Plan((Phase("Remove from the servers", tuple(lanes)),))


def plan_one_off(spec: DeploySpec, one_off: OneOff, title: str) -> Plan:
    """A command in a new container of the release (app exec), output into the job log."""
    return Plan((_one_off_phase(spec, one_off, title, with_pull=False),))


def plan_exec_in(server: Host, container: str, command: tuple[str, ...]) -> Plan:
    """A command in a running container of the release."""
    run = Run(
        server,
        tuple(containers.exec_in(container, list(command))),
        "exec",
        timeout=ONE_OFF_TIMEOUT,
        stream=True,
    )
    return Plan((Phase(f"Run in {container}: {shlex.join(command)}", (lane(run),)),))


def _build_phase(spec: DeploySpec, build: BuildSpec) -> Phase:
    builder, folder = build.builder, paths.build_dir(spec.app)
    files: list[Step] = []
    if build.arg_names or build.secret_names:
        files.append(Run(builder, tuple(host.remove_directory(folder)), "clear the build folder"))
        files.append(Run(builder, tuple(host.make_directory(folder)), "build folder"))
    if build.arg_names:
        files.append(
            Put(
                builder,
                paths.build_args_file(spec.app),
                0o600,
                BUILD_ARGS_CONTENT,
                build.arg_names,
                "build arguments",
            )
        )
    for name in build.secret_names:
        files.append(
            Put(
                builder,
                paths.build_secret_file(spec.app, name),
                0o600,
                build_content(name),
                (name,),
                "build secret",
            )
        )
    build_argv = containers.build(
        spec.image,
        build.dockerfile,
        paths.build_args_file(spec.app) if build.arg_names else "",
        list(build.arg_names),
        {name: paths.build_secret_file(spec.app, name) for name in build.secret_names},
    )
    steps: list[Step] = [
        *files,
        Pipe(
            None,
            build.archive,
            builder,
            tuple(build_argv),
            "build",
            timeout=BUILD_TIMEOUT,
            stream=True,
        ),
    ]
    if spec.push:
        steps += [
            *_login(spec, builder),
            Run(builder, tuple(containers.push(spec.image)), "push", timeout=BUILD_TIMEOUT),
        ]
    cleanup: tuple[Step, ...] = ()
    if files:
        cleanup = (
            Run(
                builder,
                tuple(host.remove_directory(folder)),
                "remove the build folder",
                check=False,
            ),
        )
    built = Skip(
        builder, tuple(containers.image_id(spec.image)), f"{spec.image} is built already; no build."
    )
    return Phase(BUILD, (tuple(steps),), cleanup, built)


def _one_off_phase(spec: DeploySpec, one_off: OneOff, title: str, *, with_pull: bool) -> Phase:
    server = one_off.host
    run_once = containers.run_once(
        name=f"{spec.app}-{NAME_UNSAFE.sub('-', title.lower())[:20]}-{spec.nonce}",
        image=spec.image,
        app=spec.app,
        env_path=paths.env_file(spec.app, one_off.role),
        env_names=list(one_off.env_names),
        volumes=list(spec.volumes),
        command=list(one_off.command),
    )
    steps = [
        *(_fetch_image(spec, server) if with_pull else []),
        *_env_file(spec, server, one_off.role, one_off.env_names),
        Run(server, tuple(run_once), title, timeout=ONE_OFF_TIMEOUT, stream=True),
    ]
    return Phase(f"{title}: {shlex.join(one_off.command)}", (tuple(steps),))


def _start_lanes(
    spec: DeploySpec, placements: list[Placement], pulled: set[int]
) -> tuple[tuple[Step, ...], ...]:
    by_server: dict[int, list[Placement]] = {}
    for placement in placements:
        by_server.setdefault(placement.host.id, []).append(placement)
    lanes: list[tuple[Step, ...]] = []
    for server_placements in by_server.values():
        server = server_placements[0].host
        steps: list[Step] = [] if server.id in pulled else _fetch_image(spec, server)
        pulled.add(server.id)
        if spec.record_digest and not lanes:
            digest = Run(
                server,
                tuple(containers.image_digest(spec.image)),
                "image digest",
                check=False,
                record="digest",
            )
            steps.append(digest)
        for placement in server_placements:
            steps += [*_env_file(spec, server, placement.role, placement.env_names)]
            steps.append(_run(spec, placement))
        steps += [health_gate(spec, p) for p in server_placements]
        lanes.append(tuple(steps))
    return tuple(lanes)


def _fetch_image(spec: DeploySpec, server: Host) -> list[Step]:
    """Pull from the registry, or copy from the builder when the image is not pushed."""
    if spec.source is not None:
        if spec.source.id == server.id:
            return []
        unless = tuple(containers.image_id(spec.image))
        copy = Pipe(
            spec.source,
            tuple(containers.save(spec.image)),
            server,
            tuple(containers.load()),
            "copy the image",
            unless=unless,
        )
        return [copy]
    # A digest names one image for ever: pulled only where it is missing.
    pinned = tuple(containers.image_id(spec.image)) if "@sha256:" in spec.image else ()
    pull = Run(
        server, tuple(containers.pull(spec.image)), "pull", timeout=PULL_TIMEOUT, unless=pinned
    )
    return [*_login(spec, server), pull]


def _login(spec: DeploySpec, server: Host) -> list[Step]:
    if not spec.registry:
        return []
    argv = tuple(containers.login(spec.registry, spec.registry_user))
    return [Run(server, argv, "registry login", stdin=REGISTRY_PASSWORD, note=LOGIN_NOTE)]


def _env_file(spec: DeploySpec, server: Host, role: str, names: tuple[str, ...]) -> list[Step]:
    folder = Run(server, tuple(host.make_directory(paths.app_dir(spec.app))), "app folder")
    env = Put(
        server,
        paths.env_file(spec.app, role),
        0o600,
        env_content(role),
        names,
        f"variables of {role}",
    )
    return [folder, env]


def _run(spec: DeploySpec, placement: Placement) -> Run:
    argv = containers.run(
        name=placement.name,
        image=spec.image,
        app=spec.app,
        role=placement.role,
        release=spec.version,
        env_path=paths.env_file(spec.app, placement.role),
        env_names=list(placement.env_names),
        volumes=list(spec.volumes),
        command=list(placement.command),
    )
    starts = Starts(placement.name, placement.role)
    return Run(placement.host, tuple(argv), f"start {placement.role}", starts=starts)


def health_gate(spec: DeploySpec, placement: Placement) -> WaitHealthy:
    """Wait until a container of the release answers its health check (or just runs)."""
    return WaitHealthy(
        placement.host,
        placement.name,
        spec.deploy_timeout,
        spec.health_interval,
        spec.health_path if placement.proxied else "",
        spec.port,
        spec.health_timeout,
    )


def _switch(spec: DeploySpec, placement: Placement) -> PointRoute:
    upstream = f"{placement.name}:{spec.port}"
    return PointRoute(placement.host, spec.route, upstream, title="switch")
