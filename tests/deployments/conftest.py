from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from deployments.models import App, EnvVar, Role
from panel.jobs.runner import run_job
from panel.models import Job
from servers import ssh
from servers.models import Server
from servers.operations.bootstrap import bootstrap
from servers.targets import target_for
from tests.conftest import Crew, new_server
from tests.deployments.lab_apps import new_app, remove_from_servers
from tests.lab.lab import Lab
from tests.servers.conftest import lab_server


def job_for(crew: Crew, job_kind: str, target: object = None, **params: object) -> Job:
    return Job.objects.create(
        kind=job_kind,
        team=crew.team,
        actor_label="dora",
        params=params,
        target_type=target._meta.label_lower if target is not None else "",  # type: ignore[attr-defined]
        target_id=str(target.pk) if target is not None else "",  # type: ignore[attr-defined]
    )


def log_of(job: Job) -> str:
    return "\n".join(job.log_lines.values_list("text", flat=True))


@pytest.fixture
def web_servers(lab: Lab, crew: Crew) -> list[Server]:
    """Every lab host as a server of the crew's team, bootstrapped (proxy running)."""
    servers = [lab_server(crew, host) for host in lab.hosts]
    for server in servers:
        job = job_for(crew, "server.bootstrap", server)
        assert run_job(job.pk, bootstrap) == "succeeded", log_of(job)
    return servers


MakeApp = Callable[..., App]


@pytest.fixture
def make_app(crew: Crew, lab: Lab) -> Iterator[MakeApp]:
    created: list[App] = []

    def make(name: str, servers: list[Server], **fields: object) -> App:
        app = new_app(crew.team, lab, name, servers, "lab.test", **fields)
        created.append(app)
        return app

    yield make
    for app in created:
        remove_from_servers(app, list(Server.objects.filter(roles__app=app).distinct()))


def fetch(server: Server, domain: str, path: str = "/") -> tuple[int, bytes]:
    """A request through the server's proxy, as a visitor of the domain would send it."""
    target = target_for(server)
    response = asyncio.run(
        ssh.http(target, server.host, 80, "GET", path, headers={"Host": domain}, timeout=5)
    )
    return response.status, response.body


def wait_for_body(server: Server, domain: str, body: bytes, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, got = fetch(server, domain)
        if status == 200 and got.strip() == body:
            return
        assert time.monotonic() < deadline, (status, got[:200])
        time.sleep(0.1)


SECRET = "canary-s3cr3t-value-8c1f"


@pytest.fixture
def server(crew: Crew) -> Server:
    return new_server(crew)


@pytest.fixture
def app(crew: Crew, server: Server) -> App:
    app = App.objects.create(
        team=crew.team,
        name="shop",
        image="registry.example.com/acme/shop",
        domains=["shop.example.com"],
        registry_username="ci",
    )
    app.registry_password = "registry-pass-77"
    app.save()
    Role.objects.create(app=app, name="web").servers.set([server])
    EnvVar.objects.create(team=crew.team, app=app, key="DATABASE_URL", value=SECRET, secret=True)
    EnvVar.objects.create(team=crew.team, app=app, key="MODE", value="production")
    return app
