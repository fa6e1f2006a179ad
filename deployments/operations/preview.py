"""The plan page: what a deploy will run, per server, as the job log will show it. Values of
secrets and variables never appear, only their names."""

from __future__ import annotations

import shlex

from deployments.commands import containers
from deployments.models import App, Release
from deployments.operations.build import build_servers, parse_build_args, push_registry
from deployments.operations.plan import Placement, placements, run_command
from deployments.services import build_secrets
from servers.models import Server

COMMIT = "<commit>"


def describe(app: App, release: Release) -> dict[str, list[str]]:
    """The commands per server. For an app built from git, `release.version` is the branch,
    tag or commit asked for, and the build comes first."""
    plan: dict[str, list[str]] = {}
    ref = release.version or app.git_branch
    if app.git_url:
        release = Release(app=app, version=COMMIT, image=f"{app.image}:{COMMIT}")
    where = placements(app, release)
    copied = False
    if app.git_url and where:
        builder, others = build_servers(app, where)
        plan[_heading(builder, "build")] = _build_lines(app, release, ref, builder, others)
        copied = push_registry(app) is None
    for placement in where:
        lines = plan.setdefault(_heading(placement.server), [])
        if not copied and not any(line.startswith("docker pull") for line in lines):
            lines += _pull_lines(app, release)
        lines += _start_lines(app, release, placement)
    return plan


def _heading(server: Server, step: str = "") -> str:
    return f"{server.name} ({server.address}){' · ' + step if step else ''}"


def _build_lines(
    app: App, release: Release, ref: str, builder: Server, others: list[Server]
) -> list[str]:
    folder = containers.build_dir(f"~{builder.user}", app.name)
    args = sorted(parse_build_args(app.build_args.reveal()))
    secrets = {name: f"{folder}/secret-{name}" for name in build_secrets(app)}
    build = containers.build(
        release.image, app.dockerfile, f"{folder}/args.env" if args else "", args, secrets
    )
    tree = f"{COMMIT}:{app.build_context}" if app.build_context else COMMIT
    lines = [
        f"the panel fetches {app.git_url} and resolves {ref} to {COMMIT}",
        f"skipped when {release.image} is on {builder.name} already:",
    ]
    if args or secrets:
        files = [f"args.env ({', '.join(args)})"] if args else []
        files += [f"secret-{name}" for name in secrets]
        lines.append(f"write in {folder}/ (mode 0700, over SFTP): {', '.join(files)}")
    lines.append(f"git archive {tree} | {shlex.join(build)}")
    if args or secrets:
        lines.append(f"rm -rf {folder}")
    registry = push_registry(app)
    if registry:
        login = shlex.join(containers.login(registry, app.registry_username))
        lines += [f"{login}   # password on stdin", shlex.join(containers.push(release.image))]
    elif others:
        names = ", ".join(server.name for server in others)
        lines.append(f"{shlex.join(containers.save(release.image))} | docker load  → {names}")
    return lines


def _pull_lines(app: App, release: Release) -> list[str]:
    lines = []
    registry = containers.registry_of(release.image)
    if registry and app.registry_username:
        login = shlex.join(containers.login(registry, app.registry_username))
        lines.append(f"{login}   # password on stdin")
    return [*lines, shlex.join(containers.pull(release.image))]


def _start_lines(app: App, release: Release, placement: Placement) -> list[str]:
    home = f"~{placement.server.user}"
    lines = [
        f"write {placement.env_path(home, app.name)} (mode 0600, over SFTP): "
        f"{', '.join(sorted(placement.env)) or 'no variables'}",
        shlex.join(run_command(app, release, placement, home)),
    ]
    if placement.proxied:
        return [
            *lines,
            f"health check: GET {app.health_path} on port {app.container_port} "
            f"until 2xx (at most {app.deploy_timeout}s)",
            f"proxy: point the route at the new container, drain {app.drain_timeout}s, "
            "stop the old one",
        ]
    return [
        *lines,
        "wait until running (and healthy, if the image has a health check); stop the old one",
    ]
