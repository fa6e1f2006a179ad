"""Docker commands for accessories. Pure: values in, argv lists out."""

from __future__ import annotations

import posixpath

from deployments.commands.containers import LOAD_ENV_AND_RUN
from servers.commands.docker import NETWORK
from servers.commands.host import panel_path

LABEL_ACCESSORY = "panel.accessory"


def container(name: str) -> str:
    """Its container's name; apps reach it by `name` itself, its alias on the network."""
    return f"panel-accessory-{name}"


def folder(name: str) -> str:
    return panel_path("accessories", name)


def env_file(name: str) -> str:
    return posixpath.join(folder(name), "env")


def config_file(name: str) -> str:
    return posixpath.join(folder(name), "config")


def given_file(name: str, index: int) -> str:
    """Where the index-th file given to it is written on the server."""
    return posixpath.join(folder(name), f"file-{index}")


def volume(name: str) -> str:
    return f"panel-accessory-{name}-data"


def run(
    *,
    name: str,
    image: str,
    env_names: list[str],
    volumes: list[str],
    publish: list[str],
    command: list[str],
    read_only: list[tuple[str, str]] | None = None,
) -> list[str]:
    """Start it on the panel network under its name; variables by name from the sourced env
    file (never on a command line); files (absolute host path, path inside) read-only."""
    argv = ["sh", "-c", LOAD_ENV_AND_RUN, env_file(name), "docker", "run", "--detach",
            "--name", container(name), "--network", NETWORK, "--network-alias", name,
            "--restart", "unless-stopped", "--label", f"{LABEL_ACCESSORY}={name}"]  # fmt: skip
    for env_name in env_names:
        argv += ["--env", env_name]
    for mount in volumes:
        argv += ["--volume", mount]
    for host_path, inside in read_only or []:
        argv += ["--volume", f"{host_path}:{inside}:ro"]
    for port in publish:
        argv += ["--publish", port]
    return [*argv, image, *command]


def previous(name: str) -> str:
    """Its old container during a reboot, kept stopped until the new one is ready."""
    return f"{container(name)}-previous"


# Stop the old container and keep it under another name (nothing to do on a first boot).
SET_ASIDE = (
    'docker inspect "$0" >/dev/null 2>&1 || exit 0; docker rm --force "$1" >/dev/null 2>&1; '
    'docker stop --time 30 "$0" >/dev/null && docker rename "$0" "$1"'
)
# Bring the old container back when the new one did not become ready.
BRING_BACK = (
    'docker inspect "$1" >/dev/null 2>&1 || exit 0; docker rm --force "$0" >/dev/null 2>&1; '
    'docker rename "$1" "$0" && docker start "$0"'
)


# Its data volumes carry its id: one left by an earlier accessory of the same name (made with
# another password) is refused rather than started on; a missing one is made with the label.
OWN_VOLUME = (
    'owner=$(docker volume inspect --format \'{{index .Labels "panel.accessory.id"}}\' "$0" '
    '2>/dev/null) || { docker volume create --label "panel.accessory.id=$1" "$0" >/dev/null; '
    'exit; }; [ "$owner" = "$1" ] && exit; echo "The volume $0 holds data of an earlier '
    "accessory of this name, made with another password: remove that volume on the server, "
    'or add the accessory under another name." >&2; exit 1'
)


def own_volume(volume: str, owner: str) -> list[str]:
    return ["sh", "-c", OWN_VOLUME, volume, owner]


def set_aside(name: str) -> list[str]:
    return ["sh", "-c", SET_ASIDE, container(name), previous(name)]


def bring_back(name: str) -> list[str]:
    return ["sh", "-c", BRING_BACK, container(name), previous(name)]


def ask(name: str, env_names: list[str], question: list[str], *, stdin: bool = False) -> list[str]:
    """Run a question inside the running accessory, with its variables (passwords) set from
    the env file: `docker exec --env NAME` takes each value from the shell, not the line."""
    argv = ["sh", "-c", LOAD_ENV_AND_RUN, env_file(name), "docker", "exec"]
    if stdin:
        argv.append("--interactive")
    for env_name in env_names:
        argv += ["--env", env_name]
    return [*argv, container(name), *question]


def remove(name: str) -> list[str]:
    return ["docker", "rm", "--force", container(name)]


def stop(name: str) -> list[str]:
    return ["docker", "stop", "--time", "30", container(name)]


def start(name: str) -> list[str]:
    return ["docker", "start", container(name)]


def restart(name: str) -> list[str]:
    return ["docker", "restart", "--time", "30", container(name)]


def inspect(name: str) -> list[str]:
    """State, health, start time and image of its container, as one JSON line."""
    template = (
        '{"state": {{json .State.Status}}, "health": {{if .State.Health}}'
        '{{json .State.Health.Status}}{{else}}""{{end}}, '
        '"started": {{json .State.StartedAt}}, "image": {{json .Image}}}'
    )
    return ["docker", "inspect", "--format", template, container(name)]


def volume_sizes() -> list[str]:
    """Every volume's name and size in bytes, a line each (`docker system df` measures them)."""
    return ["docker", "system", "df", "--verbose", "--format", "{{json .Volumes}}"]
