"""The dashboard's servers at a glance: the panel's containers running of those it expects
(live releases and accessories), a server not reached yet or unreachable shown as unknown,
and the part that changes answered alone to htmx's polling."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backups.models import Backup, Repository
from deployments.models import Accessory, App, Container, Release, ReleaseStatus
from monitoring import overview
from monitoring.models import HostHealth, HostStatus
from tests.conftest import Crew, new_server


def test_each_server_shows_its_panel_containers_up_of_those_expected(crew: Crew) -> None:
    web, spare = new_server(crew), new_server(crew, "web-2", "10.0.0.6")
    app = App.objects.create(team=crew.team, name="shop", image="registry.example.com/shop")
    live = Release.objects.create(app=app, version="v2", image="shop:v2", status=ReleaseStatus.LIVE)
    old = Release.objects.create(
        app=app, version="v1", image="shop:v1", status=ReleaseStatus.RETIRED
    )
    Container.objects.create(release=live, server=web, role="web", name="shop-web-v2")
    Container.objects.create(release=live, server=web, role="worker", name="shop-worker-v2")
    Container.objects.create(release=old, server=web, role="web", name="shop-web-v1")
    db = Accessory.objects.create(team=crew.team, name="db", server=web, image="postgres:17")
    repository = Repository.objects.create(team=crew.team, name="here", server=web)
    Backup.objects.create(team=crew.team, repository=repository, accessory=db, succeeded=True)
    HostHealth.objects.create(server=web, status=HostStatus.UP, latest={
        "cpu_pct": 12.5, "memory_pct": 40.0, "disk_pct": 91.0, "disk_path": "/",
        "containers": [{"name": "shop-web-v2", "state": "running"},
                       {"name": "shop-worker-v2", "state": "exited"},
                       {"name": "panel-accessory-db", "state": "running"},
                       {"name": "shop-web-v1", "state": "exited"}],
    })  # fmt: skip
    first, second = overview.tiles(crew.team)
    assert (first.server, first.running, first.expected) == (web, 2, 3)
    assert first.not_running == ["shop-worker-v2"] and first.last_backup is not None
    assert first.last_verified is None
    assert (second.server, second.status, second.expected) == (spare, HostStatus.UNKNOWN, 0)


def test_the_dashboard_polls_its_changing_part(crew: Crew, client: Client) -> None:
    server = new_server(crew)
    HostHealth.objects.create(server=server, status=HostStatus.UNREACHABLE,
                              seen_at=timezone.now())  # fmt: skip
    client.force_login(crew.viewer)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'hx-trigger="every 10s"' in page and "<h1" in page
    assert "not known while it cannot be reached" in page
    part = client.get(reverse("dashboard"), headers={"HX-Request": "true"}).content.decode()
    assert part.lstrip().startswith('<div id="dashboard-live"') and "<h1" not in part
    assert 'id="server-tiles"' in part and "unreachable" in part
