"""Commands about the host itself. Pure: they return argv lists and run nothing."""

from __future__ import annotations

import posixpath

# A fixed script (no user input in it) printing one `key=value` line per fact; one line so
# the job log shows it as one command.
FACTS_SCRIPT = "; ".join(
    [
        ". /etc/os-release 2>/dev/null",
        'echo "os=${PRETTY_NAME:-unknown}"',
        'echo "os_id=${ID:-unknown}"',
        'echo "os_like=${ID_LIKE:-}"',
        'echo "kernel=$(uname -sr)"',
        'echo "arch=$(uname -m)"',
        'echo "cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"',
        "echo \"memory_kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)\"",
        "echo \"disk_kib=$(df -P -k / | awk 'NR == 2 {print $2, $4}')\"",
        'echo "user=$(id -un)"',
        'echo "uid=$(id -u)"',
        'echo "docker_cli=$(command -v docker >/dev/null 2>&1 && echo yes || echo no)"',
        "echo \"docker_server=$(docker version --format '{{.Server.Version}}' 2>/dev/null)\"",
        "echo \"docker_client=$(docker version --format '{{.Client.Version}}' 2>/dev/null)\"",
        "echo \"buildx=$(docker buildx version 2>/dev/null | cut -d' ' -f2)\"",
        "echo \"proxy=$(docker container inspect --format '{{.State.Running}}' panel-proxy"
        ' 2>/dev/null)"',
        'echo "time=$(date +%s.%N)"',
    ]
)


def facts() -> list[str]:
    return ["sh", "-c", FACTS_SCRIPT]


def shell(command: str) -> list[str]:
    """An admin's ad-hoc command (server exec): one argument to `sh -c`, run as typed."""
    return ["sh", "-c", command]


PANEL_DIR = ".panel"


def panel_path(*parts: str) -> str:
    """A path in the panel's folder of the login's home, relative to that home (where
    commands over SSH start and SFTP resolves relative paths)."""
    return posixpath.join(PANEL_DIR, *parts)


def make_directory(path: str, mode: str = "700") -> list[str]:
    """Create a folder (and its parents); the mode applies to the folder itself."""
    return ["mkdir", "-p", "-m", mode, "--", path]


def remove_directory(path: str) -> list[str]:
    return ["rm", "-rf", "--", path]


def parse_facts(output: str) -> dict[str, object]:
    """The script's lines as facts; sizes become bytes (ints) where they parse."""
    facts: dict[str, object] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            facts[key] = value.strip()
    memory = str(facts.pop("memory_kib", ""))
    if memory.isdigit():
        facts["memory_bytes"] = int(memory) * 1024
    disk = str(facts.pop("disk_kib", "")).split()
    if len(disk) == 2 and all(part.isdigit() for part in disk):
        facts["disk_total_bytes"], facts["disk_free_bytes"] = (int(p) * 1024 for p in disk)
    return facts
