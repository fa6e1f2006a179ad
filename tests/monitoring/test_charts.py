"""Charts: samples gathered into at most a chart's width of points, rollups for long ranges,
SVG that holds only numbers and escaped text, and the server's health page for its team."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring import state
from monitoring.charts import MAX_POINTS, Point, downsample, svg
from monitoring.models import HostHealth, HostStatus, Sample
from monitoring.series import series
from servers.models import Server
from tests.conftest import Crew, new_server


def _samples(server: Server, count: int, every: timedelta) -> None:
    now = timezone.now()
    Sample.objects.bulk_create(
        Sample(server=server, at=now - every * (count - n), cpu_pct=float(n % 100),
               iowait_pct=1.0, load1=0.5, memory_pct=40.0 + n % 7, memory_used=1, memory_total=2,
               swap_used=0, disk_pct=55.0, net_in_bps=1000.0 * n, net_out_bps=10.0,
               processes=100, threads=300, tcp_connections=5)
        for n in range(count)
    )  # fmt: skip


def test_a_day_of_samples_is_gathered_into_a_chart_width_of_points() -> None:
    now = timezone.now()
    values: list[tuple[datetime, float | None]] = [
        (now + timedelta(seconds=30 * n), float(n % 10)) for n in range(2880)
    ]
    values[5] = (values[5][0], None)
    points = downsample(values)
    assert len(points) <= MAX_POINTS and points[0].low == 0 and points[0].high == 9
    markup = svg(points, "CPU <of web-1>", "%", 100.0)
    assert "<polyline" in markup and "&lt;of web-1&gt;" in markup and "<of" not in markup
    assert "not enough samples" in svg([Point(now, 1, 1, 1)], "CPU", "%")


def test_long_ranges_come_from_rollups(crew: Crew) -> None:
    server = new_server(crew)
    _samples(server, 600, timedelta(minutes=1))
    state.roll_up(timezone.now())
    week = series(server.pk, "7d", timezone.now())
    assert 100 <= len(week["cpu_pct"]) <= 121  # one point per 5 minutes, 10 hours
    assert max(p.high for p in week["cpu_pct"]) == 99.0
    day = series(server.pk, "24h", timezone.now())
    assert len(day["net_in_bps"]) == 200  # 600 samples, three to a point


def test_the_health_page_shows_charts_to_its_team_only(crew: Crew, client: Client) -> None:
    server = new_server(crew)
    _samples(server, 120, timedelta(seconds=30))
    HostHealth.objects.create(server=server, status=HostStatus.UP, seen_at=timezone.now(),
                              booted_at=timezone.now() - timedelta(days=3), reboot_required=True,
                              latest={"mounts": [{"path": "/", "pct": 55.0, "inodes_pct": 3,
                                                  "size": 10**10}], "containers": []})  # fmt: skip
    url = reverse("server_health", args=[server.pk])
    client.force_login(crew.viewer)
    page = client.get(url, {"range": "1h"}).content.decode()
    assert page.count("<svg") == 6 and "a reboot is pending" in page
    assert client.get(url, {"range": "<script>"}).status_code == 200
    client.force_login(crew.outsider)
    assert client.get(url).status_code == 404
