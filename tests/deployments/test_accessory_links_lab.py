"""Links on the lab: an app of the lab's database-checking image is given DATABASE_URL and
REDIS_URL by links, deploys, and answers that it reaches each engine over the network with
them; the password never shows in the host's process list; unlink drops what was asked. An
accessory on one host serves an app on another through a private-address publish; nothing
unpublished is reachable from another host, and a loopback publish only from its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from deployments import accessory_services as services
from deployments.accessory_reach import ON_LOOPBACK, ON_PRIVATE, publish_for
from deployments.commands import accessories
from deployments.models import Accessory, AccessoryLink, App, EnvVar
from deployments.operations import accessories as operations
from deployments.operations import accessory_links, link_rotation
from panel.jobs.runner import run_job
from servers import ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp, fetch, log_of
from tests.deployments.lab_accessories import added, gone
from tests.deployments.test_accessories_lab import engines_on_the_hosts  # noqa: F401
from tests.deployments.test_deploy_lab import deploy_version
from tests.lab.images import service_image
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def _accessory(crew: Crew, server: Server, name: str, kind: str, **fields: Any) -> Accessory:
    """Added as in the accessories' lab tests, and booted."""
    accessory = added(crew, server, name, kind, **fields)
    boot = services.start_accessory_job(crew.actor(crew.admin), accessory, "boot")
    assert run_job(boot.pk, operations.boot) == "succeeded", log_of(boot)
    return accessory


def _link(crew: Crew, accessory: Accessory, app: App, variable: str) -> AccessoryLink:
    job = services.start_link(
        crew.actor(crew.admin), accessory, app, variable=variable, database="shop", user="shop"
    )
    assert run_job(job.pk, accessory_links.link) == "succeeded", log_of(job)
    link = AccessoryLink.objects.get(accessory=accessory, app=app)
    assert link.password.reveal() not in log_of(job)
    return link


def _answers(app: App, server: Server) -> str:
    status, body = fetch(server, app.domains[0], "/cgi-bin/db")
    assert status == 200, body
    return body.decode()


@pytest.fixture
def dbapp(make_app: MakeApp, lab: Lab) -> Iterator[MakeApp]:
    def make(name: str, servers: list[Server]) -> App:
        return make_app(name, servers, image=lab.dbapp_image.rsplit(":", 1)[0])

    yield make


class ProcessWatch:
    """`ps` on a host, again and again, while something runs."""

    def __init__(self, server: Server) -> None:
        self.target, self.done = target_for(server), threading.Event()
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self.watch)

    def watch(self) -> None:
        while not self.done.is_set():
            listed = asyncio.run(ssh.run(self.target, ["ps", "-eo", "args"], check=False))
            self.seen.append(listed.stdout)

    def __enter__(self) -> ProcessWatch:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()


def test_an_app_linked_to_postgres_and_redis_reaches_both_then_unlink_drops_the_database(
    crew: Crew, web_servers: list[Server], dbapp: MakeApp
) -> None:
    server = web_servers[0]
    db = _accessory(crew, server, "db", "postgres")
    cache = _accessory(crew, server, "cache", "redis")
    app = dbapp("shop", [server])
    try:
        with ProcessWatch(server) as watch:
            link = _link(crew, db, app, "DATABASE_URL")
        assert len(watch.seen) >= 3
        assert not any(link.password.reveal() in listed for listed in watch.seen)
        _link(crew, cache, app, "REDIS_URL")
        url = EnvVar.objects.get(app=app, key="DATABASE_URL")
        assert url.secret and url.value.reveal().startswith("postgres://shop:")
        assert "@db:5432/shop" in url.value.reveal()
        outcome, release = deploy_version(crew, app, "v1")
        assert outcome == "succeeded", release.log  # type: ignore[attr-defined]
        answers = _answers(app, server)
        assert "DATABASE_URL: connected (1)" in answers, answers
        assert "REDIS_URL: connected (PONG)" in answers, answers

        # A reboot keeps the link's user and password (Redis keeps them in its config file).
        reboot = services.start_accessory_job(crew.actor(crew.admin), cache, "reboot")
        assert run_job(reboot.pk, operations.reboot) == "succeeded", log_of(reboot)
        assert "REDIS_URL: connected (PONG)" in _answers(app, server)

        _rotate_without_a_refused_request(crew, app, server, link, cache)

        unlink = services.start_unlink(crew.actor(crew.owner), link, drop=True)
        assert run_job(unlink.pk, accessory_links.unlink) == "succeeded", log_of(unlink)
        assert not EnvVar.objects.filter(app=app, key="DATABASE_URL").exists()
        names = [
            "psql",
            "-U",
            "postgres",
            "-tAc",
            "SELECT count(*) FROM pg_database WHERE datname = 'shop'",
        ]
        asked = accessories.ask("db", sorted(operations.secrets_of(db)[0]), names)
        assert asyncio.run(ssh.run(target_for(server), asked)).stdout.strip() == "0"
    finally:
        gone(db)
        gone(cache)


def _rotate_without_a_refused_request(
    crew: Crew, app: App, server: Server, link: AccessoryLink, cache: Accessory
) -> None:
    """Rotate both links while the app is asked again and again: every answer is connected,
    the new login works, and the old password is refused afterwards."""
    redis_link = AccessoryLink.objects.get(accessory=cache, app=app)
    old_pg, old_redis = link.password.reveal(), redis_link.password.reveal()
    answers: list[str] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            answers.append(_answers(app, server))

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        for row in (link, redis_link):
            job = services.start_rotation(crew.actor(crew.admin), row)
            assert run_job(job.pk, link_rotation.rotate) == "succeeded", log_of(job)
            assert "old one is no longer accepted" in log_of(job)
    finally:
        done.set()
        asker.join()
    assert len(answers) >= 5
    refused = [a for a in answers if "DATABASE_URL: connected (1)" not in a
               or "REDIS_URL: connected (PONG)" not in a]  # fmt: skip
    assert not refused, refused[:3]
    link.refresh_from_db()
    assert link.login == "shop_b" and link.password.reveal() != old_pg
    assert "postgres://shop_b:" in EnvVar.objects.get(app=app, key="DATABASE_URL").value.reveal()
    target = target_for(server)
    old = ["sh", "-c", 'PGPASSWORD="$0" psql -h 127.0.0.1 -U shop -d shop -tAc "SELECT 1"', old_pg]
    tried = asyncio.run(ssh.run(target, ["docker", "exec", accessories.container("db"), *old],
                                check=False))  # fmt: skip
    assert not tried.ok and "shop" in tried.stderr
    old_auth = ["redis-cli", "--user", "shop", "--pass", old_redis, "--no-auth-warning", "PING"]
    tried = asyncio.run(ssh.run(target, ["docker", "exec", accessories.container("cache"),
                                         *old_auth], check=False))  # fmt: skip
    assert "PONG" not in tried.stdout
    # Rotated again, it goes back to the first login, which works again.
    job = services.start_rotation(crew.actor(crew.admin), link)
    assert run_job(job.pk, link_rotation.rotate) == "succeeded", log_of(job)
    assert "DATABASE_URL: connected (1)" in _answers(app, server)
    link.refresh_from_db()
    assert link.login == ""


def test_mariadb_on_one_host_serves_an_app_on_another_through_a_private_address(
    crew: Crew, web_servers: list[Server], dbapp: MakeApp
) -> None:
    home, away = web_servers[1], web_servers[2]
    published = publish_for(ON_PRIVATE, home.host, 3306, 3306).docker
    shared = _accessory(crew, home, "shared", "mariadb", publish=[published])
    app = dbapp("faraway", [away])
    try:
        link = _link(crew, shared, app, "DATABASE_URL")
        value = EnvVar.objects.get(app=app, key="DATABASE_URL").value.reveal()
        assert value.startswith("mysql://shop:") and f"@{home.host}:3306/shop" in value
        outcome, release = deploy_version(crew, app, "v1")
        assert outcome == "succeeded", release.log  # type: ignore[attr-defined]
        assert "DATABASE_URL: connected (1)" in _answers(app, away)
        rotation = services.start_rotation(crew.actor(crew.admin), link)
        assert run_job(rotation.pk, link_rotation.rotate) == "succeeded", log_of(rotation)
        assert "DATABASE_URL: connected (1)" in _answers(app, away)
        users = ["mariadb", "--user=root", "--host=127.0.0.1", "--skip-column-names", "-e",
                 "SELECT user FROM mysql.user WHERE user LIKE 'shop%'"]  # fmt: skip
        asked = accessories.ask("shared", sorted(operations.secrets_of(shared)[0]), users)
        assert asyncio.run(ssh.run(target_for(home), asked)).stdout.split() == ["shop_b"]
    finally:
        gone(shared)


def test_unpublished_is_unreachable_from_other_hosts_and_loopback_only_from_its_own(
    crew: Crew, web_servers: list[Server]
) -> None:
    home, other = web_servers[0], web_servers[1]
    hidden = _accessory(crew, home, "hidden", "redis")
    local = _accessory(
        crew, home, "local", "redis", publish=[publish_for(ON_LOOPBACK, "", 6400, 6379).docker]
    )
    try:
        found = asyncio.run(
            ssh.run(target_for(home), ["docker", "inspect", "--format",
                    "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                    accessories.container("hidden")])
        )  # fmt: skip
        hidden_address = found.stdout.strip()
        assert asyncio.run(ssh.accepts(target_for(home), hidden_address, 6379))
        assert not asyncio.run(ssh.accepts(target_for(other), hidden_address, 6379))
        assert not asyncio.run(ssh.accepts(target_for(other), home.host, 6379))
        assert asyncio.run(ssh.accepts(target_for(home), "127.0.0.1", 6400))
        assert not asyncio.run(ssh.accepts(target_for(other), home.host, 6400))
    finally:
        gone(hidden)
        gone(local)


def test_the_mysql_template_boots_and_links_with_its_own_clients(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    """MySQL's template on the lab's MariaDB image (Debian has no MySQL server): the same
    variables, `mysqladmin ping` and the `mysql` client."""
    server = web_servers[2]
    db = _accessory(crew, server, "my", "mysql", image=service_image("mariadb"))
    try:
        app = make_app("mine", [server])
        _link(crew, db, app, "DATABASE_URL")
        asked = accessories.ask(
            "my", sorted(operations.secrets_of(db)[0]),
            ["mysql", "--user=root", "--host=127.0.0.1", "--skip-column-names", "-e",
             "SHOW GRANTS FOR 'shop'@'%'"],
        )  # fmt: skip
        assert "`shop`.*" in asyncio.run(ssh.run(target_for(server), asked)).stdout
    finally:
        gone(db)
