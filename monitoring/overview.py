"""Every server of a team at a glance, as the dashboard shows it: reachable or not, its last
levels, its fullest disk, the panel's containers running of those it expects there (the live
releases' and the accessories'), and its accessories' last backup and verified restore."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max

from backups.models import Backup, Verification
from deployments.commands.accessories import container as accessory_container
from deployments.models import Accessory, Container, ReleaseStatus
from monitoring.models import HostHealth, HostStatus
from panel.models import Team
from servers.models import Server


@dataclass(frozen=True)
class Tile:
    server: Server
    status: str  # a HostStatus, or "unknown" before its first round
    latest: dict[str, Any]
    running: int
    expected: int
    not_running: list[str]
    last_backup: datetime | None
    last_verified: datetime | None


def tiles(team: Team) -> list[Tile]:
    servers = list(Server.objects.filter(team=team).order_by("name"))
    healths = {h.server_id: h for h in HostHealth.objects.filter(server__in=servers)}
    accessories = list(
        Accessory.objects.filter(server__in=servers).values_list("server_id", "name", "pk")
    )
    expected = expected_containers(servers)
    backed_up = _latest(Backup.objects.filter(succeeded=True), accessories)
    verified = _latest(Verification.objects.filter(passed=True), accessories)
    found = []
    for server in servers:
        health = healths.get(server.pk)
        latest = health.latest if health else {}
        running = {c["name"] for c in latest.get("containers", []) if c.get("state") == "running"}
        wanted = expected[server.pk]
        found.append(Tile(
            server=server, status=health.status if health else HostStatus.UNKNOWN, latest=latest,
            running=len(wanted & running), expected=len(wanted),
            not_running=sorted(wanted - running), last_backup=backed_up.get(server.pk),
            last_verified=verified.get(server.pk),
        ))  # fmt: skip
    return found


def expected_containers(servers: list[Server]) -> dict[int, frozenset[str]]:
    """Per server, the containers the panel runs there: its live releases' and accessories'."""
    found: dict[int, set[str]] = defaultdict(set)
    live = Container.objects.filter(
        server__in=servers, running=True, release__status=ReleaseStatus.LIVE
    ).values_list("server_id", "name")
    for server_id, name in live:
        found[server_id].add(name)
    for server_id, name in Accessory.objects.filter(server__in=servers).values_list(
        "server_id", "name"
    ):
        found[server_id].add(accessory_container(name))
    return defaultdict(frozenset, {pk: frozenset(names) for pk, names in found.items()})


def _latest(rows: Any, accessories: list[tuple[int, str, Any]]) -> dict[int, datetime]:
    """The newest of the rows per server, through the accessories on it."""
    server_of = {pk: server_id for server_id, _, pk in accessories}
    newest = (
        rows.filter(accessory__in=list(server_of))
        .values("accessory")
        .annotate(at=Max("created_at"))
    )
    found: dict[int, datetime] = {}
    for row in newest:
        server_id = server_of[row["accessory"]]
        if server_id not in found or row["at"] > found[server_id]:
            found[server_id] = row["at"]
    return found
