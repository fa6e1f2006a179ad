"""Links and publishing without a server: the statements and URLs, what the forms refuse, who
may link, unlink, drop and run commands, and the refusals that start no job."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from deployments import accessory_links, accessory_reach
from deployments import accessory_services as services
from deployments.models import Accessory, AccessoryLink, App, EnvVar, Role
from deployments.services import DeployRefused
from panel.models import AuditEvent, Job
from servers.models import Server
from tests.conftest import Crew, new_server

PASSWORD = "Abc_def-ghi123456789xyz0"


def _accessory(crew: Crew, server: Server, kind: str = "postgres", **fields: Any) -> Accessory:
    return services.create_accessory(
        crew.actor(crew.admin), crew.team, name=kind[:5], server=server, kind=kind, **fields
    )


def _app(crew: Crew, servers: list[Server], name: str = "shop-front") -> App:
    app = App.objects.create(team=crew.team, name=name, image="registry.example.com/shop")
    Role.objects.create(app=app, name="web").servers.set(servers)
    return app


@pytest.mark.parametrize("engine", ["postgres", "mysql", "redis"])
def test_statements_hold_validated_names_and_refuse_anything_else(engine: str) -> None:
    made = accessory_links.create_statements(engine, "shop", "shop", PASSWORD)
    assert "shop" in made and PASSWORD in made
    for hostile in ("shop; DROP TABLE x", 'a"b', "a'b", "Shop", "1shop", "a" * 33, "$(touch x)"):
        with pytest.raises(ValidationError):
            accessory_links.create_statements(engine, hostile, "shop", PASSWORD)
        with pytest.raises(ValidationError):
            accessory_links.drop_statements(engine, "shop", hostile, 0)
    with pytest.raises(ValueError, match="generated"):
        accessory_links.create_statements(engine, "shop", "shop", "x' OR '1")


def test_urls_and_redis_users_in_the_config_file_keep_only_a_hash() -> None:
    url = accessory_links.url(
        "postgres", user="shop", password=PASSWORD, host="db", port=5432, database="shop", number=0
    )
    assert url == f"postgres://shop:{PASSWORD}@db:5432/shop"
    redis = accessory_links.url(
        "redis", user="shop", password=PASSWORD, host="10.0.0.5", port=6379, database="", number=3
    )
    assert redis.endswith("@10.0.0.5:6379/3")
    line = accessory_links.redis_user_line("shop", PASSWORD)
    assert PASSWORD not in line and line.startswith("user shop on #")


def test_publishing_is_loopback_a_private_address_or_everywhere_and_the_page_says_so() -> None:
    assert accessory_reach.publish_for("loopback", "", 5432, 5432).docker == "127.0.0.1:5432:5432"
    assert accessory_reach.publish_for("private", "10.0.0.5", 6000, 5432).docker == (
        "10.0.0.5:6000:5432"
    )
    for refused in ("8.8.8.8", "127.0.0.1", "0.0.0.0", "10.0.0.5:80", "db; touch x", "::1"):
        with pytest.raises(ValidationError):
            accessory_reach.publish_for("private", refused, 5432, 5432)
    with pytest.raises(ValidationError):
        accessory_reach.publish_for("loopback", "", 70000, 5432)
    ways = accessory_reach.reach("db", "web-1", 5432, ["127.0.0.1:5432:5432", "0.0.0.0:5433:5432"])
    assert [way.address for way in ways] == ["db:5432", "127.0.0.1:5432:5432", "*:5433"]
    assert "bypass ufw" in ways[2].warning and not ways[1].warning


def test_apps_on_the_same_server_use_the_name_and_others_need_a_private_publish() -> None:
    assert accessory_reach.address_for("db", 1, 5432, [], {1}) == ("db", 5432)
    assert accessory_reach.address_for("db", 1, 5432, ["127.0.0.1:5432:5432"], {1, 2}) is None
    assert accessory_reach.address_for("db", 1, 5432, ["10.0.0.5:6000:5432"], {2}) == (
        "10.0.0.5",
        6000,
    )


def test_the_form_refuses_every_address_without_the_tick_and_a_public_address(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.admin)
    base = {"name": "db", "kind": "postgres", "server": server.pk}
    page = client.post(reverse("accessory_new"), {**base, "publish_on": "all"}).content.decode()
    assert "Tick this to publish on every address." in page
    page = client.post(
        reverse("accessory_new"),
        {**base, "publish_on": "private", "publish_address": "203.0.113.9"},
    ).content.decode()
    assert "private IPv4 address" in page
    assert not Accessory.objects.exists()
    client.post(reverse("accessory_new"), {**base, "publish_on": "all", "accept_everywhere": "on"})
    accessory = Accessory.objects.get()
    assert accessory.publish == ["0.0.0.0:5432:5432"]
    detail = client.get(reverse("accessory_detail", args=[accessory.pk])).content.decode()
    assert "bypass ufw" in detail and "*:5432" in detail


def test_links_are_refused_for_a_taken_variable_an_unreachable_app_or_any_image(
    crew: Crew, server: Server
) -> None:
    db = _accessory(crew, server)
    app = _app(crew, [server])
    EnvVar.objects.create(team=crew.team, app=app, key="DATABASE_URL", value="x")
    actor = crew.actor(crew.admin)
    link = {"variable": "DATABASE_URL", "database": "shop", "user": "shop"}
    with pytest.raises(DeployRefused, match="already has a variable DATABASE_URL"):
        services.start_link(actor, db, app, **link)
    far = _app(crew, [new_server(crew, name="web-2")], name="far")
    with pytest.raises(DeployRefused, match="private address"):
        services.start_link(actor, db, far, **link)
    custom = _accessory(crew, server, "custom", image="nginx:1")
    with pytest.raises(DeployRefused, match="cannot link"):
        services.start_link(actor, custom, far, **link)
    assert not Job.objects.exists()


def test_linking_is_for_admins_and_starts_an_audited_job_with_no_secret(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db = _accessory(crew, server)
    app = _app(crew, [server])
    url = reverse("accessory_link", args=[db.pk])
    form = {"app": app.pk, "variable": "DATABASE_URL", "database": "", "user": ""}
    client.force_login(crew.deployer)
    assert client.post(url, form).status_code == 403
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url, {**form, "user": "bad name"})
        assert not Job.objects.exists()
        answer = client.post(url, form)
    job = Job.objects.get()
    assert answer["Location"] == reverse("job_detail", args=[job.pk])
    assert job.params == {
        "app_id": str(app.pk),
        "variable": "DATABASE_URL",
        "database": "shop_front",
        "user": "shop_front",
    }
    assert AuditEvent.objects.filter(action="job.accessory.link").exists()


def test_dropping_a_link_needs_its_database_typed_and_an_owner_and_removal_waits_for_unlinks(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db = _accessory(crew, server)
    app = _app(crew, [server])
    link = AccessoryLink.objects.create(
        team=crew.team, accessory=db, app=app, variable="DATABASE_URL", database="shop",
        user="shop", password=PASSWORD,
    )  # fmt: skip
    url = reverse("accessory_unlink", args=[db.pk, link.pk])
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url, {"drop": "on", "confirm": "wrong"})
        assert not Job.objects.exists()
        assert client.post(url, {"drop": "on", "confirm": "shop"}).status_code == 403
        client.post(reverse("accessory_remove", args=[db.pk]))
        assert not Job.objects.exists()  # shop still uses it
        client.force_login(crew.owner)
        client.post(url, {"drop": "on", "confirm": "shop"})
    job = Job.objects.get()
    assert job.kind == "accessory.unlink" and job.params["drop"] is True


def test_commands_inside_are_for_admins_and_logs_for_deployers(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db = _accessory(crew, server)
    exec_url = reverse("accessory_exec", args=[db.pk])
    client.force_login(crew.deployer)
    assert client.post(exec_url, {"command": "psql -c 'SELECT 1'"}).status_code == 403
    page = client.get(reverse("accessory_detail", args=[db.pk])).content.decode()
    assert "accessory-logs" in page and 'id="exec-form"' not in page
    client.force_login(crew.viewer)
    page = client.get(reverse("accessory_detail", args=[db.pk])).content.decode()
    assert "accessory-logs" not in page
    assert client.get(reverse("accessory_logs_stream", args=[db.pk])).status_code == 403
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(exec_url, {"command": "psql -c 'unclosed"})
        assert not Job.objects.exists()
        client.post(exec_url, {"command": "psql -c 'SELECT 1'"})
    assert Job.objects.get().params == {"command": "psql -c 'SELECT 1'"}


@pytest.mark.parametrize("engine", ["postgres", "mysql"])
def test_rotation_alternates_between_two_logins_and_retires_only_the_old(engine: str) -> None:
    assert accessory_links.next_login(engine, "shop", "shop") == "shop_b"
    assert accessory_links.next_login(engine, "shop", "shop_b") == "shop"
    accept = accessory_links.accept_statements(engine, "shop", "shop", "shop_b", PASSWORD)
    assert "shop_b" in accept and PASSWORD in accept
    retire = accessory_links.retire_statements(engine, "shop", "shop", PASSWORD)
    assert "shop_b" not in retire and PASSWORD not in retire
    with pytest.raises(ValidationError):
        accessory_links.accept_statements(engine, "shop", "shop", "shop'--", PASSWORD)


def test_redis_rotation_keeps_one_user_with_two_passwords_for_a_while() -> None:
    assert accessory_links.next_login("redis", "shop", "shop") == "shop"
    assert accessory_links.accept_statements("redis", "shop", "shop", "shop", PASSWORD) == (
        f"ACL SETUSER shop on >{PASSWORD}\n"
    )
    line = accessory_links.redis_user_line("shop", PASSWORD, "Other_password_1234")
    assert line.count("#") == 2 and PASSWORD not in line


def test_rotation_is_for_those_who_manage_secrets(
    crew: Crew, client: Client, server: Server, django_capture_on_commit_callbacks: Any
) -> None:
    db = _accessory(crew, server)
    link = AccessoryLink.objects.create(
        team=crew.team, accessory=db, app=_app(crew, [server]), variable="DATABASE_URL",
        database="shop", user="shop", password=PASSWORD,
    )  # fmt: skip
    url = reverse("accessory_rotate", args=[db.pk, link.pk])
    client.force_login(crew.deployer)
    assert client.post(url).status_code == 403
    client.force_login(crew.admin)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url)
    job = Job.objects.get()
    assert job.kind == "accessory.rotate" and PASSWORD not in str(job.params)


def test_a_linked_variable_is_changed_only_through_its_link(
    crew: Crew, client: Client, server: Server
) -> None:
    db = _accessory(crew, server)
    app = _app(crew, [server])
    AccessoryLink.objects.create(
        team=crew.team, accessory=db, app=app, variable="DATABASE_URL", database="shop",
        user="shop", password=PASSWORD,
    )  # fmt: skip
    variable = EnvVar.objects.create(team=crew.team, app=app, key="DATABASE_URL", value="x")
    client.force_login(crew.admin)
    page = client.post(
        reverse("app_env", args=[app.pk]), {"key": "DATABASE_URL", "value": "postgres://other"}
    ).content.decode()
    assert "comes from the link to postg:" in page
    client.post(reverse("env_delete", args=[app.pk, variable.pk]))
    assert EnvVar.objects.get(pk=variable.pk).value.reveal() == "x"
