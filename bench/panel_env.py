"""A throwaway panel (own data dir, SQLite) with the lab hosts as servers, for benchmarks."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deployments.models import App
    from panel.models import Team
    from servers.models import Server
    from tests.lab.lab import Lab


def setup_django() -> None:
    os.environ.setdefault("PANEL_DATA_DIR", tempfile.mkdtemp(prefix="panel-bench-"))
    os.environ.setdefault("PANEL_GIT_ALLOW_LOCAL", "true")  # the benchmark's repositories
    os.environ.setdefault("PANEL_TLS_ISSUER", "internal")
    os.environ["DJANGO_SETTINGS_MODULE"] = "panel.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


@dataclass
class Fixture:
    team: Team
    servers: list[Server]
    lab: Lab


def lab_fixture() -> Fixture:
    """A team with every lab host as a bootstrapped server."""
    from django.contrib.auth.models import User

    from panel.jobs.runner import run_job
    from panel.models import Job, Membership, Role, Team
    from servers import keys
    from servers.models import HostKeyState, Server, SshKey
    from servers.operations.bootstrap import bootstrap
    from tests.lab.images import service_image
    from tests.lab.lab import describe

    lab = describe()
    team = Team.objects.create(name="Bench", slug=f"bench-{int(time.time())}")
    user = User.objects.create_user(f"bench-{team.pk}")
    Membership.objects.create(team=team, user=user, role=Role.OWNER)
    pair = keys.import_private(lab.hosts[0].client_key.read_text())
    key = SshKey.objects.create(
        team=team,
        name="lab",
        public_key=pair.public_key,
        fingerprint=pair.fingerprint,
        private_key=pair.private_key,
    )
    servers = []
    for host in lab.hosts:
        public = keys.public_key_line(host.host_public_key)
        server = Server.objects.create(
            team=team,
            name=host.name,
            host=host.address,
            user=host.user,
            ssh_key=key,
            proxy_image=service_image("caddy"),
            host_key_state=HostKeyState.TRUSTED,
            host_key=public,
            host_key_fingerprint=keys.fingerprint(public),
        )
        job = Job.objects.create(
            kind="server.bootstrap",
            team=team,
            actor_label="bench",
            target_type="servers.server",
            target_id=str(server.pk),
        )
        assert run_job(job.pk, bootstrap) == "succeeded"
        servers.append(server)
    return Fixture(team=team, servers=servers, lab=lab)


def make_app(fixture: Fixture, name: str, servers: list[Server], **fields: object) -> App:
    from tests.deployments.lab_apps import new_app

    return new_app(fixture.team, fixture.lab, name, servers, "bench.test", **fields)


def deploy(app: App, version: str) -> float:
    """Deploy through the real job runner; returns the job's own duration in seconds."""
    from deployments.models import Release
    from deployments.operations.deploy import deploy as deploy_operation
    from panel.jobs.runner import run_job
    from panel.models import Job

    release = Release.objects.create(app=app, version=version, image=f"{app.image}:{version}")
    job = Job.objects.create(
        kind="app.deploy",
        team=app.team,
        actor_label="bench",
        params={"release": release.pk, "kind": "deploy"},
        target_type="deployments.app",
        target_id=str(app.pk),
    )
    outcome = run_job(job.pk, deploy_operation)
    job.refresh_from_db()
    if outcome != "succeeded":
        raise SystemExit(f"deploy failed: {job.error}")
    return job.duration_seconds or 0.0


def remove_app(app: App, servers: list[Server]) -> None:
    from tests.deployments.lab_apps import remove_from_servers

    remove_from_servers(app, servers)


def report_against_bare(panel_times: list[float], bare_times: list[float]) -> None:
    """Each run's time, the medians, and their ratio as the last line."""
    import statistics

    print(f"panel runs: {', '.join(f'{t:.2f}' for t in panel_times)} s")
    print(f"bare runs:  {', '.join(f'{t:.2f}' for t in bare_times)} s")
    panel, bare = statistics.median(panel_times), statistics.median(bare_times)
    print(f"panel median: {panel:.2f} s")
    print(f"bare median: {bare:.2f} s")
    print(f"ratio: {panel / bare:.2f}")
