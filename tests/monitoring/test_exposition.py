"""The metrics endpoint: a token of any scope reads its teams' servers in Prometheus' format;
nothing of another team, nothing without a token, nothing of a server that is unreachable."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitoring.models import HostHealth, HostStatus
from panel.api import tokens
from panel.models import Team
from tests.conftest import Crew, new_server


def test_a_token_reads_its_teams_servers_and_containers(crew: Crew, client: Client) -> None:
    web = new_server(crew)
    down = new_server(crew, "web-2", "10.0.0.6")
    HostHealth.objects.create(server=web, status=HostStatus.UP, seen_at=timezone.now(), latest={
        "cpu_pct": 12.5, "memory_pct": 40.0, "memory_total": 2 * 10**9, "load1": 0.3,
        "mounts": [{"path": "/", "pct": 55.5, "inodes_pct": 3.0}],
        "containers": [{"name": "shop-web-v1", "state": "running", "restarts": 2, "app": "shop",
                        "accessory": "", "cpu_pct": 1.5, "memory_bytes": 1000}],
    })  # fmt: skip
    HostHealth.objects.create(server=down, status=HostStatus.UNREACHABLE, latest={"cpu_pct": 99})
    other = Team.objects.create(name="Other", slug="other")
    elsewhere = new_server(crew, "far", "10.0.0.9")
    elsewhere.team = other
    elsewhere.save()
    HostHealth.objects.create(server=elsewhere, status=HostStatus.UP, latest={"cpu_pct": 1.0})
    assert client.get("/api/v1/metrics").status_code == 401
    secret = tokens.create(crew.actor(crew.viewer), crew.viewer, "prom", "read", None)
    answer = client.get("/api/v1/metrics", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }
    team = crew.team.slug
    assert samples[("panel_server_up", (("server", "web-1"), ("team", team)))] == 1
    assert samples[("panel_server_up", (("server", "web-2"), ("team", team)))] == 0
    assert samples[("panel_server_cpu_percent", (("server", "web-1"), ("team", team)))] == 12.5
    assert ("panel_server_cpu_percent", (("server", "web-2"), ("team", team))) not in samples
    mount = ("panel_mount_used_percent", (("mount", "/"), ("server", "web-1"), ("team", team)))
    assert samples[mount] == 55.5
    restarts = ("panel_container_restarts",
                (("container", "shop-web-v1"), ("server", "web-1"), ("team", team)))  # fmt: skip
    assert samples[restarts] == 2
    assert not any(("server", "far") in labels for _, labels in samples)
