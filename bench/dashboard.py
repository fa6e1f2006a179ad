"""The pages people open most, for a team of 500 servers, 2,000 apps and 5,000 jobs, against
the same pages for a team of 1 server and 4 apps, in one run: queries per page and p95 time.

Each app has a web role on two servers, three releases (one live) and its live containers.
Goal (DESIGN): a constant query count (at most 15) and p95 under 100 ms.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import TYPE_CHECKING, Any

from bench.panel_env import setup_django

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from panel.models import Team

SERVERS, APPS, SMALL_SERVERS, SMALL_APPS = 500, 2000, 1, 4
PAGES = ["/", "/servers/", "/apps/", "/apps/?q=app19&page=2", "/jobs/", "/jobs/?page=40"]
JOBS = 5000
ROUNDS = 100


def make_team(name: str, servers: int, apps: int, jobs: int) -> tuple[Team, User]:
    from django.contrib.auth.models import User

    from deployments.models import App, Container, Release, ReleaseStatus, Role
    from panel.models import Job, Membership, Team
    from panel.models import Role as TeamRole
    from servers.models import HostKeyState, Server, SshKey

    team = Team.objects.create(name=name, slug=name)
    user = User.objects.create_user(f"{name}-owner")
    Membership.objects.create(team=team, user=user, role=TeamRole.OWNER)
    key = SshKey.objects.create(
        team=team, name="k", public_key="ssh-ed25519 AAAA", fingerprint="SHA256:x", private_key="k"
    )
    hosts = Server.objects.bulk_create(
        Server(
            team=team,
            name=f"s{n}",
            host=f"10.0.{n // 250}.{n % 250 + 1}",
            ssh_key=key,
            host_key_state=HostKeyState.TRUSTED,
            reachable=True,
            docker_version="27.0",
        )
        for n in range(servers)
    )
    made = App.objects.bulk_create(
        App(team=team, name=f"app{n}", image=f"registry.example.com/app{n}", domains=[f"a{n}.x"])
        for n in range(apps)
    )
    roles = Role.objects.bulk_create(Role(app=app, name="web") for app in made)
    Role.servers.through.objects.bulk_create(
        Role.servers.through(role=role, server=hosts[(n + k) % servers])
        for n, role in enumerate(roles)
        for k in range(min(2, servers))
    )
    releases = Release.objects.bulk_create(
        Release(app=app, version=f"v{v}", image=f"{app.image}:v{v}", status=status)
        for app in made
        for v, status in enumerate([ReleaseStatus.RETIRED, ReleaseStatus.RETIRED, "live"])
    )
    live = [r for r in releases if r.status == ReleaseStatus.LIVE]
    for app, release in zip(made, live, strict=True):
        app.current_release = release
    App.objects.bulk_update(made, ["current_release"])
    Container.objects.bulk_create(
        Container(release=release, server=hosts[(n + k) % servers], role="web", name=f"c{n}-{k}")
        for n, release in enumerate(live)
        for k in range(min(2, servers))
    )
    Job.objects.bulk_create(
        Job(
            team=team,
            kind="app.deploy",
            target_label=f"app{n % apps}",
            status="succeeded",
            actor_label="bench",
        )
        for n in range(jobs)
    )
    return team, user


def measure(user: User, path: str) -> tuple[int, float]:
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)
    client.get(path)  # warm caches and the session
    queries = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    return len(queries), statistics.quantiles(times, n=20)[18] * 1000


def main() -> None:
    setup_django()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    _, small = make_team("small", SMALL_SERVERS, SMALL_APPS, SMALL_APPS)
    _, large = make_team("large", SERVERS, APPS, JOBS)
    gc.collect()  # what setting up left behind is not the pages' cost
    print(f"{'page':<24} {'queries small':>14} {'queries large':>14} {'p95 small':>10} "
          f"{'p95 large':>10}")  # fmt: skip
    summary = []
    for path in PAGES:
        small_queries, small_p95 = measure(small, path)
        large_queries, large_p95 = measure(large, path)
        print(f"{path:<24} {small_queries:>14} {large_queries:>14} {small_p95:>8.1f}ms "
              f"{large_p95:>8.1f}ms")  # fmt: skip
        summary.append((path, large_queries, large_p95, large_p95 / small_p95))
    for path, queries, p95, ratio in summary:
        print(f"{path} queries: {queries}")
        print(f"{path} p95 ms: {p95:.1f}")
        print(f"{path} ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
