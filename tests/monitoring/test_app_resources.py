"""An app's part of its servers' rounds: its running containers added up per round across
its servers (other apps' and stopped containers left out), and the page part that shows them
to members of its team only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deployments.models import App, Role
from monitoring.models import HostHealth, Sample
from monitoring.series import app_series
from tests.conftest import Crew, new_server


def _container(
    name: str, app: str, cpu: float, memory: int, state: str = "running"
) -> dict[str, Any]:
    return {"name": name, "app": app, "state": state, "cpu_pct": cpu, "memory_bytes": memory,
            "restarts": 2, "health": "healthy"}  # fmt: skip


LEVELS = {"load1": 0.1, "memory_pct": 10.0, "memory_used": 1, "memory_total": 10, "swap_used": 0,
          "processes": 10, "threads": 20, "tcp_connections": 1}  # fmt: skip


def test_an_app_s_containers_are_added_up_per_round(crew: Crew, client: Client) -> None:
    one, two = new_server(crew), new_server(crew, "web-2", "10.0.0.6")
    app = App.objects.create(team=crew.team, name="shop", image="registry.example.com/shop")
    Role.objects.create(app=app, name="web").servers.set([one, two])
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=10)
    for minute in range(3):
        at = start + timedelta(minutes=minute)
        Sample.objects.create(server=one, at=at, **LEVELS, containers=[
            _container("shop-web-1", "shop", 10.0, 100), _container("blog-web", "blog", 50.0, 999),
            _container("shop-web-old", "shop", 90.0, 999, state="exited")])  # fmt: skip
        Sample.objects.create(server=two, at=at + timedelta(seconds=5), **LEVELS,
                              containers=[_container("shop-web-2", "shop", 5.0, 50)])  # fmt: skip
    points = app_series("shop", [one.pk, two.pk], "1h", timezone.now())
    assert [p.mid for p in points["cpu_pct"]] == [15.0, 15.0, 15.0]
    assert [p.mid for p in points["memory_bytes"]] == [150.0, 150.0, 150.0]
    HostHealth.objects.create(server=one, latest={"containers": [
        _container("shop-web-1", "shop", 10.0, 100)]})  # fmt: skip
    url = reverse("app_resources", args=[app.pk])
    client.force_login(crew.viewer)
    part = client.get(url, {"range": "1h"}).content.decode()
    assert part.count("<svg") == 2 and "shop-web-1" in part and "blog-web" not in part
    client.force_login(crew.outsider)
    assert client.get(url).status_code == 404
