"""Docker's part of a round through its API on the pooled connection, so no process starts
on the server for it: the containers listed, the ones whose details may have changed
inspected, and the answers turned into the lines the script's `cli` path prints
(`name|state|restarts|health|app|accessory|started|pid`), so one reader serves both. Pure."""

from __future__ import annotations

import json
from typing import Any

LIST = "/containers/json?all=1"
# States in which a container's restart count, start time and first process stay as they were.
STOPPED = frozenset({"exited", "created", "dead"})


def socket_path(docker_host: str) -> str:
    """The unix socket Docker listens on, from the host's DOCKER_HOST; "" when it is not one
    (a TCP or SSH address: the round asks the CLI)."""
    scheme, _, path = docker_host.strip().partition("://")
    return path if scheme == "unix" and path.startswith("/") else ""


def listing(body: bytes) -> list[dict[str, Any]]:
    found = json.loads(body)
    if not isinstance(found, list):
        raise ValueError("Docker's list of containers is not a list")
    return found


def inspect_path(container: dict[str, Any]) -> str:
    return f"/containers/{container['Id']}/json"


def to_inspect(
    containers: list[dict[str, Any]], before: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """All but the containers that were stopped the round before and still are."""
    return [
        container
        for container in containers
        if container.get("State") not in STOPPED
        or before.get(_name(container), {}).get("state") != container.get("State")
    ]


def lines(
    containers: list[dict[str, Any]], inspected: dict[str, dict[str, Any]],
    before: dict[str, dict[str, Any]],
) -> list[str]:  # fmt: skip
    """Each container's line: from its inspection, or (not inspected) from the list and what
    the round before knew of it."""
    found = []
    for container in containers:
        name = _name(container)
        details = inspected.get(container["Id"])
        if details is not None:
            state, labels = details.get("State") or {}, (details.get("Config") or {}).get("Labels")
            fields = [state.get("Status", ""), str(details.get("RestartCount", 0)),
                      (state.get("Health") or {}).get("Status", ""), *_owners(labels),
                      state.get("StartedAt", ""), str(state.get("Pid", 0))]  # fmt: skip
        else:
            known = before.get(name, {})
            fields = [container.get("State", ""), str(known.get("restarts", 0)), "",
                      *_owners(container.get("Labels")), known.get("started_at", ""),
                      "0"]  # fmt: skip
        found.append("|".join([name, *fields]))
    return found


def pids(found_lines: list[str]) -> list[int]:
    """The first processes of the running containers, whose cgroups the script reads."""
    numbers = (line.rsplit("|", 1)[-1] for line in found_lines)
    return [int(pid) for pid in numbers if pid.isdigit() and int(pid) > 0]


def _name(container: dict[str, Any]) -> str:
    names = container.get("Names") or [container.get("Name", "")]
    return str(names[0]).lstrip("/")


def _owners(labels: dict[str, str] | None) -> list[str]:
    labels = labels or {}
    return [labels.get("panel.app", ""), labels.get("panel.accessory", "")]
