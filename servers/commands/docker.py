"""Docker Engine and its network on a host. Pure builders."""

from __future__ import annotations

NETWORK = "panel"
SUPPORTED_SYSTEMS = ("debian", "ubuntu")


def server_version() -> list[str]:
    return ["docker", "version", "--format", "{{.Server.Version}}"]


def install(*, sudo: bool) -> list[str]:
    """Docker Engine from the distribution's apt repository (Debian and Ubuntu), with the
    buildx plugin where the distribution has it: newer docker clients need it for BuildKit,
    older ones (Debian 12) have BuildKit built in."""
    script = (
        "set -e; export DEBIAN_FRONTEND=noninteractive; "
        "apt-get update -qq; apt-get install -y -qq docker.io; "
        "if apt-cache show docker-buildx >/dev/null 2>&1; then "
        "apt-get install -y -qq docker-buildx; fi; "
        "if command -v systemctl >/dev/null 2>&1; then systemctl enable --now docker; fi"
    )
    return _privileged(["sh", "-c", script], sudo=sudo)


def add_user_to_docker_group(user: str, *, sudo: bool) -> list[str]:
    return _privileged(["usermod", "--append", "--groups", "docker", "--", user], sudo=sudo)


def network_inspect(name: str = NETWORK) -> list[str]:
    return ["docker", "network", "inspect", "--format", "{{.Name}}", name]


def network_create(name: str = NETWORK) -> list[str]:
    return ["docker", "network", "create", "--driver", "bridge", name]


def container_state(name: str) -> list[str]:
    """`<status> <health>`: health is `none` for an image without a health check."""
    template = "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}"
    return ["docker", "inspect", "--format", template, name]


def container_address(name: str, network: str = NETWORK) -> list[str]:
    template = '{{with index .NetworkSettings.Networks "' + network + '"}}{{.IPAddress}}{{end}}'
    return ["docker", "inspect", "--format", template, name]


def container_logs(name: str, tail: int = 30) -> list[str]:
    return ["docker", "logs", "--tail", str(tail), name]


def _privileged(argv: list[str], *, sudo: bool) -> list[str]:
    return ["sudo", "-n", "--", *argv] if sudo else argv


def docker_host() -> list[str]:
    """Where the server's Docker clients connect (its DOCKER_HOST, or Docker's default)."""
    return ["sh", "-c", 'printf "%s\\n" "${DOCKER_HOST:-unix:///var/run/docker.sock}"']
