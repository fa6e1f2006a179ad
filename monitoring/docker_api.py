"""Docker's part of a round through its API on the pooled connection, so no process starts
on the server for it: the containers listed, the ones whose details may have changed
inspected, and the answers turned into the lines the script's `cli` path prints
(`name|state|restarts|health|app|accessory|started|pid`), so one reader serves both. Pure."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from servers.docker_values import docker_time

LIST = "/containers/json?all=1"
# States in which a container's restart count, start time and first process stay as they were.
STOPPED = frozenset({"exited", "created", "dead"})


def listing(body: bytes) -> list[dict[str, Any]]:
    found = json.loads(body)
    if not isinstance(found, list):
        raise ValueError("Docker's list of containers is not a list")
    return found


def inspect_path(container: dict[str, Any]) -> str:
    return f"/containers/{container['Id']}/json"


def to_inspect(
    containers: list[dict[str, Any]], before: dict[str, dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """The containers whose details may have changed since the round before: new ones, those
    whose state changed, young ones, and running ones up for less time than they were (they
    restarted). A container that stays as it was keeps what the round before read."""
    return [c for c in containers if _changed(c, before.get(_name(c)), now)]


def _changed(container: dict[str, Any], known: dict[str, Any] | None, now: datetime) -> bool:
    state = container.get("State")
    if known is None or known.get("state") != state:
        return True
    if state in STOPPED:
        return False
    return not known.get("pid") or _restarted(container, known, now)


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
            fields = [container.get("State", ""), str(known.get("restarts", 0)),
                      _health(container.get("Status", "")), *_owners(container.get("Labels")),
                      known.get("started_at", ""), str(known.get("pid", 0))]  # fmt: skip
        found.append("|".join([name, *fields]))
    return found


YOUNG = 120.0  # seconds: a container up for less is asked about every round
HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
UP = re.compile(r"^Up (.+?)(?: \(|$)")
# Docker's words for a time up to the next unit, as the longest it may stand for (seconds).
SPANS = (("Less than a second", 1.0), ("About a minute", 120.0), ("About an hour", 7200.0))
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800,
         "month": 2_678_400, "year": 31_622_400}  # fmt: skip


def _restarted(container: dict[str, Any], known: dict[str, Any], now: datetime) -> bool:
    """Whether the list's "Up …" says less than the round before's start time allows (the
    words are rounded down, so the longest they stand for is compared); young ones always."""
    up = _longest_up(container.get("Status", ""))
    started = docker_time(known.get("started_at", ""))
    if up is None or started is None or up < YOUNG:
        return True
    return up + 5 < (now - started).total_seconds()


def _longest_up(status: str) -> float | None:
    match = UP.match(status)
    if match is None:
        return None
    words = match.group(1)
    for text, longest in SPANS:
        if words == text:
            return longest
    number, _, unit = words.partition(" ")
    if not number.isdigit() or unit.rstrip("s") not in UNITS:
        return None
    return (int(number) + 1) * UNITS[unit.rstrip("s")]


def _health(status: str) -> str:
    match = HEALTH.search(status)
    return "" if match is None else match.group(1).removeprefix("health: ")


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
