"""Which alert conditions hold, from what the rounds recorded. Pure: thresholds and readings
in, the conditions that hold out (each with what it is about, so the same condition seen
again is the same alert)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitoring.models import AlertKind
from servers.docker_values import docker_time


@dataclass(frozen=True)
class Threshold:
    threshold: float
    minutes: int = 0  # how long it must hold
    enabled: bool = True


DEFAULTS = {
    AlertKind.CPU: Threshold(90, 10),
    AlertKind.MEMORY: Threshold(90, 10),
    AlertKind.DISK: Threshold(90),
    AlertKind.INODES: Threshold(90),
    AlertKind.IOWAIT: Threshold(30, 10),
    AlertKind.UNREACHABLE: Threshold(0),
    AlertKind.CONTAINER_DOWN: Threshold(0),
    AlertKind.CRASH_LOOP: Threshold(3, 10),  # restarts, the last within the minutes
    AlertKind.UNHEALTHY: Threshold(0),
    AlertKind.UPTIME: Threshold(2),  # checks failed in a row
    AlertKind.CERTIFICATE: Threshold(14),  # days left
    AlertKind.BACKUP_FAILED: Threshold(0),
    AlertKind.BACKUP_AGE: Threshold(26),  # hours since the last backup that succeeded
    AlertKind.VERIFY_AGE: Threshold(8 * 24),  # hours since the last verified restore
    AlertKind.DISK_FILL: Threshold(24),  # hours left at the current rate
    AlertKind.REBOOTED: Threshold(0, 15),  # open for the minutes after a reboot
    AlertKind.HOST_KEY: Threshold(0),
    AlertKind.DEPLOY_FAILED: Threshold(0),
}
# What a rule's threshold and minutes mean for each kind ("" where a kind has no use for it).
MEANINGS: dict[AlertKind, tuple[str, str]] = {
    AlertKind.CPU: ("% busy", "minutes it must last"),
    AlertKind.MEMORY: ("% used", "minutes it must last"),
    AlertKind.DISK: ("% full", ""),
    AlertKind.INODES: ("% of inodes used", ""),
    AlertKind.IOWAIT: ("% of CPU waiting for I/O", "minutes it must last"),
    AlertKind.UNREACHABLE: ("", ""),
    AlertKind.CONTAINER_DOWN: ("", ""),
    AlertKind.CRASH_LOOP: ("restarts", "minutes since the last start"),
    AlertKind.UNHEALTHY: ("", ""),
    AlertKind.UPTIME: ("failed checks in a row", ""),
    AlertKind.CERTIFICATE: ("days left", ""),
    AlertKind.BACKUP_FAILED: ("", ""),
    AlertKind.BACKUP_AGE: ("hours since the last good backup", ""),
    AlertKind.VERIFY_AGE: ("hours since the last verified restore", ""),
    AlertKind.DISK_FILL: ("hours left at the current rate", ""),
    AlertKind.REBOOTED: ("", "minutes it stays open"),
    AlertKind.HOST_KEY: ("", ""),
    AlertKind.DEPLOY_FAILED: ("", ""),
}
PERCENT_KINDS = (AlertKind.CPU, AlertKind.MEMORY, AlertKind.DISK, AlertKind.INODES,
                 AlertKind.IOWAIT)  # fmt: skip
SERVER_KINDS = (AlertKind.CPU, AlertKind.MEMORY, AlertKind.DISK, AlertKind.INODES,
                AlertKind.IOWAIT, AlertKind.CONTAINER_DOWN, AlertKind.CRASH_LOOP,
                AlertKind.UNHEALTHY, AlertKind.DISK_FILL, AlertKind.REBOOTED)  # fmt: skip
BACKUP_KINDS = (AlertKind.BACKUP_FAILED, AlertKind.BACKUP_AGE, AlertKind.VERIFY_AGE)


@dataclass(frozen=True)
class Firing:
    kind: AlertKind
    subject: str
    title: str
    detail: str


@dataclass(frozen=True)
class Window:
    """A server's lowest values over a rule's minutes: the value held the whole time when even
    the lowest is above the threshold (and the samples cover the minutes)."""

    cpu: float | None
    memory: float | None
    iowait: float | None
    since: datetime | None  # the oldest sample in it


def held(window: Window, value: float | None, rule: Threshold, now: datetime) -> bool:
    if value is None or window.since is None or not rule.enabled:
        return False
    covered = now - window.since >= timedelta(minutes=rule.minutes) - timedelta(seconds=45)
    return covered and value >= rule.threshold


LEVELS = ((AlertKind.CPU, "cpu", "CPU"), (AlertKind.MEMORY, "memory", "memory"),
          (AlertKind.IOWAIT, "iowait", "I/O wait"))  # fmt: skip
MOUNTS = ((AlertKind.DISK, "pct", "full"), (AlertKind.INODES, "inodes_pct", "of its inodes used"))


def of_server(
    name: str, rules: dict[AlertKind, Threshold], windows: dict[int, Window],
    latest: dict[str, Any], now: datetime, rebooted_at: datetime | None = None,
    expected: frozenset[str] = frozenset(),
) -> list[Firing]:  # fmt: skip
    """The conditions that hold on a server that answered its round. `windows` holds the
    lowest values per rule length (minutes); `latest` is its last reading as recorded;
    `rebooted_at` when a round last saw it come back from a reboot; `expected` the containers
    the panel runs there (its live releases' and accessories')."""
    found: list[Firing] = []
    for kind, field, words in LEVELS:
        rule = rules[kind]
        window = windows.get(rule.minutes)
        lowest = getattr(window, field) if window else None
        if window is not None and held(window, lowest, rule, now):
            limit = f"{rule.threshold:g} %"
            detail = (
                f"{words} stayed above {limit} for {rule.minutes} minutes ({lowest:.0f} % or more)."
            )
            found.append(Firing(kind, "", f"{name}: {words} above {limit}", detail))
    for mount in latest.get("mounts", []):
        for kind, key, words in MOUNTS:
            rule, value = rules[kind], mount.get(key)
            if rule.enabled and value is not None and value >= rule.threshold:
                title = f"{name}: {mount['path']} is {value:.0f} % {words}"
                found.append(Firing(kind, mount["path"], title, f"Threshold {rule.threshold:g} %."))
        fill, hours = rules[AlertKind.DISK_FILL], mount.get("hours_left")
        if fill.enabled and hours is not None and hours < fill.threshold:
            title = f"{name}: {mount['path']} fills up in about {_hours(hours)} at the current rate"
            detail = f"It is {mount['pct']:.0f} % full; threshold {fill.threshold:g} hours."
            found.append(Firing(AlertKind.DISK_FILL, mount["path"], title, detail))
    reboot = rules[AlertKind.REBOOTED]
    if reboot.enabled and rebooted_at and now - rebooted_at < timedelta(minutes=reboot.minutes):
        detail = f"A round saw a new boot at {rebooted_at:%Y-%m-%d %H:%M} UTC."
        found.append(Firing(AlertKind.REBOOTED, "", f"{name} rebooted", detail))
    containers = latest.get("containers", [])
    return (
        found + _down(name, rules, containers, expected) + _containers(name, rules, containers, now)
    )


def _down(
    name: str, rules: dict[AlertKind, Threshold], containers: list[dict[str, Any]],
    expected: frozenset[str],
) -> list[Firing]:  # fmt: skip
    """Expected containers not running (one restarting is a crash loop's business)."""
    if not rules[AlertKind.CONTAINER_DOWN].enabled:
        return []
    states = {container["name"]: container.get("state", "") for container in containers}
    return [
        Firing(
            AlertKind.CONTAINER_DOWN,
            wanted,
            f"{name}: {wanted} is not running",
            f"Its state: {states.get(wanted) or 'gone (removed)'}.",
        )
        for wanted in sorted(expected)
        if states.get(wanted) not in ("running", "restarting")
    ]


def _hours(hours: float) -> str:
    return f"{hours:.0f} hours" if hours >= 2 else f"{max(1, round(hours * 60))} minutes"


def _containers(
    name: str, rules: dict[AlertKind, Threshold], containers: list[dict[str, Any]], now: datetime
) -> list[Firing]:
    found = []
    loop, unhealthy = rules[AlertKind.CRASH_LOOP], rules[AlertKind.UNHEALTHY]
    for container in containers:
        started = docker_time(container.get("started_at", ""))
        recent = started is not None and now - started < timedelta(minutes=loop.minutes)
        restarts, state = int(container.get("restarts", 0)), container.get("state")
        subject = container["name"]
        if loop.enabled and restarts >= loop.threshold and (state == "restarting" or recent):
            title = f"{name}: {subject} is restarting in a loop"
            found.append(
                Firing(AlertKind.CRASH_LOOP, subject, title, f"{restarts} restarts; {state}.")
            )
        if unhealthy.enabled and container.get("health") == "unhealthy":
            title = f"{name}: {subject} fails its health check"
            found.append(Firing(AlertKind.UNHEALTHY, subject, title, ""))
    return found
