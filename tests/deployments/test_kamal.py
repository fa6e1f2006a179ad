"""Kamal 2 configurations (a corpus written from Kamal's documentation) read into the panel's
plan and review; bad files refused with the line and key path; the import creating it all
in one transaction and one audit event."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from deployments.kamal import export, loading, mapping, secrets_file
from deployments.kamal.loading import KamalError
from deployments.models import Accessory, App, EnvVar
from panel.models import AuditEvent
from servers.models import HostKeyState, Server
from tests.conftest import Crew, new_server

CORPUS = Path(__file__).parent / "kamal_corpus"


def planned(name: str, destination: str = "") -> mapping.Plan:
    text = (CORPUS / f"{name}.yml").read_text()
    over = (CORPUS / f"deploy.{destination}.yml").read_text() if destination else ""
    return mapping.plan(loading.load(text, over))


def paths(entries: list[mapping.Entry]) -> set[str]:
    return {entry.path for entry in entries}


def test_minimal() -> None:
    plan = planned("minimal")
    assert plan.app["name"] == "hey" and plan.app["image"] == "acme/hey"
    assert plan.roles == {"web": {"hosts": ["192.0.2.10"], "command": ""}}
    assert plan.registry_password is not None
    assert plan.registry_password.secret_name == "KAMAL_REGISTRY_PASSWORD"
    assert [s.name for s in plan.review.secrets] == ["KAMAL_REGISTRY_PASSWORD"]
    assert plan.app["drain_timeout"] == 30  # Kamal's default, not the panel's


def test_roles_and_primary_role() -> None:
    plan = planned("roles")
    assert plan.app["image"] == "registry.example.com/acme/shop"
    assert plan.roles["workers"] == {"hosts": ["192.0.2.12"],
                                     "command": "bin/jobs --queues default,mail"}  # fmt: skip
    assert [(v.key, v.value, v.role) for v in plan.variables] == [
        ("JOB_CONCURRENCY", "3", "workers")
    ]
    assert plan.registry_password is not None
    assert plan.registry_password.value == "plain-registry-password"
    assert [host.address for host in plan.hosts] == ["192.0.2.10", "192.0.2.11", "192.0.2.12"]


def test_proxy_with_ssl_and_healthcheck() -> None:
    plan = planned("proxy")
    app = plan.app
    assert app["domains"] == ["blog.example.com", "www.blog.example.com"]
    assert app["tls"] and app["redirect_http"] and app["container_port"] == 3000
    assert (app["health_path"], app["health_interval"], app["health_timeout"]) == (
        "/healthz", 3.0, 7.0,
    )  # fmt: skip
    assert {"proxy.response_timeout", "proxy.forward_headers"} <= paths(plan.review.unsupported)


def test_env_clear_secret_aliases_and_tags() -> None:
    plan = planned("env")
    found = {v.key: (v.value, v.secret_name) for v in plan.variables}
    assert found == {
        "RAILS_LOG_TO_STDOUT": ("1", ""), "PORT": ("3000", ""),
        "RAILS_MASTER_KEY": ("", "RAILS_MASTER_KEY"), "DB_PASSWORD": ("", "API_DB_PASSWORD"),
    }  # fmt: skip
    assert {"env.tags", "servers.web.hosts[0]"} <= paths(plan.review.unsupported)
    assert {s.name for s in plan.review.secrets} >= {"RAILS_MASTER_KEY", "API_DB_PASSWORD"}


def test_accessories_of_each_kind() -> None:
    plan = planned("accessories")
    kinds = {a.name: (a.kind, a.host, a.publish) for a in plan.accessories}
    assert kinds == {
        "db": ("postgres", "192.0.2.41", ["127.0.0.1:5432:5432"]),
        "mysql": ("mysql", "192.0.2.41", []),
        "cache": ("redis", "192.0.2.40", ["127.0.0.1:6379:6379"]),
        "search": ("custom", "192.0.2.42", []),
    }
    db = next(a for a in plan.accessories if a.name == "db")
    # The panel sets the database's user and password itself: Kamal's are not asked for.
    assert db.variables == []
    secrets = {s.name for s in plan.review.secrets}
    assert "POSTGRES_PASSWORD" not in secrets and "MEILI_MASTER_KEY" in secrets
    assert "accessories.search.options" in paths(plan.review.unsupported)
    assert {"accessories.db.env", "accessories.search.hosts"} <= paths(plan.review.different)
    # Kamal's host folders: the engine's data folder is the panel's own volume; others become
    # volumes of the accessory's.
    assert {"accessories.db.directories[0]", "accessories.search.directories[0]"} <= paths(
        plan.review.different
    )
    search = next(a for a in plan.accessories if a.name == "search")
    assert search.volumes == ["meili:/meili_data", "search-dumps:/meili_data/dumps"]
    assert not any(":/var/lib/postgresql/data" in volume for volume in db.volumes)
    assert "192.0.2.41" in [host.address for host in plan.hosts]


def test_builder() -> None:
    plan = planned("builder")
    assert plan.app["dockerfile"] == "Dockerfile.production"
    assert plan.app["build_context"] == "backend"
    assert plan.app["build_args"] == "RUBY_VERSION=3.3.5"
    assert {"builder.secrets", "builder.remote", "builder.cache"} <= paths(plan.review.unsupported)
    assert "builder" in paths(plan.review.different)


def test_anchors_erb_extensions_and_settings() -> None:
    plan = planned("extras")
    assert plan.roles["web"]["hosts"] == ["192.0.2.60"]
    found = {v.key: v.value for v in plan.variables}
    assert found == {"LOG_LEVEL": "info", "HOST": "${EXTRA_HOST}", "BUILT": ""}
    assert plan.app["registry_username"] == "${REGISTRY_USER}"
    assert {s.name for s in plan.review.secrets} == {
        "EXTRA_HOST", "REGISTRY_USER", "KAMAL_REGISTRY_PASSWORD",
    }  # fmt: skip
    assert "env.clear.BUILT" in paths(plan.review.unsupported)  # never run
    assert plan.hosts[0].user == "deploy" and plan.hosts[0].port == 2222
    assert plan.app["volumes"] == ["/srv/extra/storage:/rails/storage"]
    assert (plan.app["retain_releases"], plan.app["deploy_timeout"]) == (3, 60)
    assert plan.app["drain_timeout"] == 10
    assert set(plan.extensions) == {"x-hosts", "x-shared-env"}
    assert {"aliases", "asset_path"} <= paths(plan.review.unsupported)
    assert "readiness_delay" in paths(plan.review.different)


def test_a_destination_is_merged_over_the_base() -> None:
    plan = planned("env", destination="staging")
    assert plan.roles["web"]["hosts"] == ["192.0.2.70"]
    assert plan.app["domains"] == ["staging.example.com"]
    # Kamal deep-merges mappings; a list (env.secret) is replaced, not appended to.
    secret_names = {v.secret_name for v in plan.variables if v.secret_name}
    assert secret_names == {"STAGING_ONLY_KEY"}
    assert {v.key for v in plan.variables} >= {"RAILS_LOG_TO_STDOUT", "STAGING_ONLY_KEY"}


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ("- a\n- b\n", "must be a mapping", 1),
        ("service: a\nservice: b\n", "duplicate key", 2),
        ("service: a\nservers:\n\t- x\n", "cannot start any token", 3),
        ("a: &a [1, 1]\n" + "".join(
            f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n"
            for p, n in zip("abcdefg", "bcdefgh", strict=True)
        ), "expands to too much", None),
        ("service: a\nimage: !!python/object:os.system x\n", "not read", None),
        ("service: " + "a" * (10 * 1024 * 1024) + "\n", "larger than", None),
        ("service: a\nimage: b\nservers: 5\n", "servers are a list", 3),
        ("service: a\nimage: b\nservers: [h]\nregistrie: {}\n", "does not know the key", 4),
        ("service: a\nimage: b\nservers: [h]\nretain_containers: many\n", "whole number", 4),
        ("image: b\nservers: [h]\n", "needs service", None),
        ("service: a\nimage: b\nservers: [h]\naccessories:\n  db: {host: h}\n", "needs an image",
         5),
    ],
    ids=["list", "duplicate", "tab", "bomb", "tag", "10MB", "servers-int", "unknown-key",
         "not-a-number", "no-service", "accessory-without-image"],
)  # fmt: skip
def test_bad_files_are_refused_with_where(text: str, words: str, line: int | None) -> None:
    with pytest.raises(KamalError) as refused:
        mapping.plan(loading.load(text))
    assert words in str(refused.value)
    if line is not None:
        assert refused.value.line == line, str(refused.value)


def test_a_secrets_file_is_read_and_never_run() -> None:
    given = secrets_file.read(
        "# comment\nKAMAL_REGISTRY_PASSWORD=plain\nexport QUOTED='a $b'\n"
        'RAILS_MASTER_KEY=$(cat config/master.key)\nDB=$(kamal secrets fetch --from op DB)\n'
        "OTHER=$SOMETHING\n"
    )  # fmt: skip
    assert given["KAMAL_REGISTRY_PASSWORD"].value == "plain"
    assert given["QUOTED"].value == "a $b"  # single quotes: literal, as dotenv reads it
    assert given["RAILS_MASTER_KEY"].value is None
    assert given["RAILS_MASTER_KEY"].source == "$(cat config/master.key)"
    assert given["OTHER"].value is None


def test_the_dry_run_prints_the_review_and_creates_nothing(crew: Crew) -> None:
    out = StringIO()
    call_command("import_kamal", str(CORPUS / "accessories.yml"), "--team", "acme", "--dry-run",
                 stdout=out)  # fmt: skip
    review = json.loads(out.getvalue())
    assert set(review) == {"mapped", "different", "unsupported", "secrets"}
    assert {"path", "text", "line"} <= set(review["unsupported"][0])
    assert not App.objects.exists() and not Server.objects.exists()


def test_a_configuration_kamal_rejects_fails_the_command(crew: Crew, tmp_path: Path) -> None:
    broken = tmp_path / "deploy.yml"
    broken.write_text("service: a\nimage: b\nservers: 5\n")
    with pytest.raises(CommandError, match="line 3"):
        call_command("import_kamal", str(broken), "--team", "acme", "--dry-run")


def test_the_import_creates_everything_in_one_event(crew: Crew, tmp_path: Path) -> None:
    existing = new_server(crew, name="db-host", host="192.0.2.41")
    secrets = tmp_path / "secrets"
    secrets.write_text("KAMAL_REGISTRY_PASSWORD=hunter2\nMEILI_MASTER_KEY=$(op read x)\n")
    with pytest.raises(CommandError, match="Fill in MEILI_MASTER_KEY"):
        call_command("import_kamal", str(CORPUS / "accessories.yml"), "--team", "acme",
                     "--secrets", str(secrets))  # fmt: skip
    assert not App.objects.exists() and not Accessory.objects.exists()

    secrets.write_text("KAMAL_REGISTRY_PASSWORD=hunter2\nMEILI_MASTER_KEY=m3ili\n")
    before = AuditEvent.objects.count()
    call_command("import_kamal", str(CORPUS / "accessories.yml"), "--team", "acme",
                 "--secrets", str(secrets), stdout=StringIO())  # fmt: skip
    app = App.objects.get(name="app")
    assert app.registry_password.reveal() == "hunter2"
    assert [r.name for r in app.roles.all()] == ["web"]
    web = Server.objects.get(host="192.0.2.40")
    assert web.host_key_state == HostKeyState.UNCONFIRMED and web.ssh_key == existing.ssh_key
    assert set(app.roles.get().servers.all()) == {web}
    accessories: dict[str, Any] = {a.name: a for a in Accessory.objects.all()}
    assert accessories["db"].server == existing and accessories["db"].kind == "postgres"
    assert accessories["search"].image == "getmeili/meilisearch:v1.11"
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.action == "app.import" and event.details["accessories"] == [
        "db", "mysql", "cache", "search",
    ]  # fmt: skip
    assert "m3ili" not in json.dumps(event.details) and "hunter2" not in json.dumps(event.details)
    assert not EnvVar.objects.filter(app=app).exists()


def _shape(plan: mapping.Plan) -> dict[str, Any]:
    """What an import makes of a plan, to compare two plans."""
    app = {k: v for k, v in plan.app.items() if k != "registry_username"}
    return {
        "app": app,
        "roles": plan.roles,
        "variables": sorted((v.key, v.role, bool(v.secret_name)) for v in plan.variables),
        "accessories": sorted(
            (a.name, a.kind, a.image, a.host, tuple(a.publish)) for a in plan.accessories
        ),
        "hosts": [(h.address, h.user, h.port) for h in plan.hosts],
        "extensions": plan.extensions,
    }


@pytest.mark.parametrize("name", ["roles", "proxy", "accessories", "extras"])
def test_import_then_export_then_import_gives_the_same_app(
    crew: Crew, tmp_path: Path, name: str
) -> None:
    new_server(crew, name="first", host="192.0.2.250")  # the team's only SSH key
    secrets = tmp_path / "secrets"
    needed = planned(name).review.secrets
    secrets.write_text("".join(f"{s.name}=value-of-{s.name.lower()}\n" for s in needed))
    call_command("import_kamal", str(CORPUS / f"{name}.yml"), "--team", "acme",
                 "--secrets", str(secrets), stdout=StringIO())  # fmt: skip
    app = App.objects.get()
    deploy, template = export.export(app)
    again = mapping.plan(loading.load(deploy))
    first = mapping.plan(loading.load((CORPUS / f"{name}.yml").read_text()))
    filled = {s.name: f"value-of-{s.name.lower()}" for s in needed}
    first.app = {k: mapping.fill(v, filled) for k, v in first.app.items()}
    assert _shape(again) == _shape(first)
    assert "value-of" not in template and all(line.endswith("=") for line in template.split())


def test_names_commands_and_ports_are_checked_as_their_pages_check_them(
    crew: Crew, tmp_path: Path
) -> None:
    new_server(crew)
    deploy = tmp_path / "deploy.yml"
    deploy.write_text(
        "service: a\nimage: acme/a\nservers: [192.0.2.1]\n"
        "env:\n  clear:\n    'BAD KEY': x\n"
        "accessories:\n  db:\n    image: postgres:16\n    host: 192.0.2.1\n"
        '    port: 0.0.0.0:5432:5432\n    cmd: "postgres\\0 -c x"\n'
    )
    with pytest.raises(CommandError) as refused:
        call_command("import_kamal", str(deploy), "--team", "acme")
    problems = str(refused.value)
    assert "Variable 'BAD KEY'" in problems
    assert "every address" in problems and "Accessory 'db'" in problems
    assert not App.objects.exists() and not Server.objects.filter(host="192.0.2.1").exists()


def test_a_port_without_an_address_is_published_on_the_loopback() -> None:
    plan = mapping.plan(loading.load(
        "service: a\nimage: b\nservers: [h]\naccessories:\n  c:\n    image: redis:7\n"
        "    host: h\n    port: '6380:6379'\n"
    ))  # fmt: skip
    assert plan.accessories[0].publish == ["127.0.0.1:6380:6379"]
    assert "accessories.c.port" in paths(plan.review.different)
