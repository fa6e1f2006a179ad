"""Commands about the host itself. Pure: they return argv lists and run nothing."""

from __future__ import annotations

# A fixed script (no user input in it): one `key=value` line per fact.
FACTS_SCRIPT = r"""
. /etc/os-release 2>/dev/null
echo "os=${PRETTY_NAME:-unknown}"
echo "os_id=${ID:-unknown}"
echo "os_like=${ID_LIKE:-}"
echo "kernel=$(uname -sr)"
echo "arch=$(uname -m)"
echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
echo "memory_bytes=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)"
echo "disk=$(df -P -k / | awk 'NR == 2 {print $2 * 1024, $4 * 1024}')"
echo "user=$(id -un)"
echo "uid=$(id -u)"
echo "docker_cli=$(command -v docker >/dev/null 2>&1 && echo yes || echo no)"
echo "docker_server=$(docker version --format '{{.Server.Version}}' 2>/dev/null)"
echo "proxy=$(docker container inspect --format '{{.State.Running}}' panel-proxy 2>/dev/null)"
echo "time=$(date +%s.%N)"
"""


def facts() -> list[str]:
    return ["sh", "-c", FACTS_SCRIPT]


def shell(command: str) -> list[str]:
    """An admin's ad-hoc command (server exec): one argument to `sh -c`, run as typed."""
    return ["sh", "-c", command]


def parse_facts(output: str) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            facts[key] = value.strip()
    return facts
