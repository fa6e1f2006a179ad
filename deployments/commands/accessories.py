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
    config: tuple[str, str] | None = None,
) -> list[str]:
    """Start it on the panel network under its name; variables by name from the sourced env
    file (never on a command line); `config` (absolute host path, path inside) read-only."""
    argv = ["sh", "-c", LOAD_ENV_AND_RUN, env_file(name), "docker", "run", "--detach",
            "--name", container(name), "--network", NETWORK, "--network-alias", name,
            "--restart", "unless-stopped", "--label", f"{LABEL_ACCESSORY}={name}"]  # fmt: skip
    for env_name in env_names:
        argv += ["--env", env_name]
    for mount in volumes:
        argv += ["--volume", mount]
    if config is not None:
        argv += ["--volume", f"{config[0]}:{config[1]}:ro"]
    for port in publish:
        argv += ["--publish", port]
    return [*argv, image, *command]


def ask(name: str, env_names: list[str], question: list[str]) -> list[str]:
    """Run a question inside the running accessory, with its variables (passwords) set from
    the env file: `docker exec --env NAME` takes each value from the shell, not the line."""
    argv = ["sh", "-c", LOAD_ENV_AND_RUN, env_file(name), "docker", "exec"]
    for env_name in env_names:
        argv += ["--env", env_name]
    return [*argv, container(name), *question]


def remove(name: str) -> list[str]:
    return ["docker", "rm", "--force", container(name)]


def stop(name: str) -> list[str]:
    return ["docker", "stop", "--time", "30", container(name)]


def start(name: str) -> list[str]:
    return ["docker", "start", container(name)]
