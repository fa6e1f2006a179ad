from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deployments import env, services
from deployments.models import App, Container, EnvVar, Release
from panel.jobs import locks
from panel.models import AuditEvent, Job, JobStatus
from servers.models import Server
from tests.conftest import Crew
from tests.deployments.conftest import SECRET
from tests.servers.payloads import PAYLOADS


def _app_form(server: Server, **overrides: Any) -> dict[str, Any]:
    """The app form's fields, and its roles as the formset posts them (`roles`: name, server
    ids, command; default: web on `server`)."""
    roles: list[tuple[str, list[int], str]] | None = overrides.pop("roles", None)
    data: dict[str, Any] = {
        "name": "blog",
        "image": "registry.example.com/acme/blog",
        "domains": "blog.example.com",
        "container_port": "80",
        "health_path": "/up",
        "health_interval": "1",
        "health_timeout": "5",
        "deploy_timeout": "30",
        "drain_timeout": "5",
        "stop_timeout": "10",
        "retain_releases": "5",
        "volumes": "",
    }
    rows = roles if roles is not None else [("web", [server.pk], overrides.pop("web_command", ""))]
    data |= {"roles-TOTAL_FORMS": str(len(rows)), "roles-INITIAL_FORMS": "0"}
    for index, (name, servers, command) in enumerate(rows):
        data |= {
            f"roles-{index}-name": name,
            f"roles-{index}-servers": servers,
            f"roles-{index}-command": command,
        }
    data.update(overrides)
    return data


def test_an_admin_creates_an_app_with_roles(crew: Crew, client: Client, server: Server) -> None:
    client.force_login(crew.admin)
    response = client.post(
        reverse("app_new"),
        _app_form(
            server,
            roles=[("web", [server.pk], ""), ("job", [server.pk], "bin/jobs --queue default")],
            volumes="data:/var/lib/blog\n/srv/uploads:/uploads:ro",
            registry_password="hunter2",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    app = App.objects.get(name="blog")
    assert {r.name: r.command for r in app.roles.all()} == {
        "web": "",
        "job": "bin/jobs --queue default",
    }
    assert app.volumes == ["data:/var/lib/blog", "/srv/uploads:/uploads:ro"]
    assert app.registry_password.reveal() == "hunter2"
    assert "hunter2" not in str(AuditEvent.objects.get(action="app.create").details)


@pytest.mark.parametrize(
    "field", ["name", "image", "domains", "volumes", "health_path", "web_command"]
)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_app_fields_are_refused_or_stay_one_argument(
    crew: Crew, client: Client, server: Server, field: str, payload: str
) -> None:
    client.force_login(crew.admin)
    response = client.post(reverse("app_new"), _app_form(server, **{field: payload}))
    if field == "web_command" and response.status_code == 302:
        # A command is split like a shell would, then passed as separate quoted arguments.
        assert App.objects.get(name="blog").roles.get(name="web").command == payload
        return
    assert response.status_code in {200, 400} and not App.objects.filter(name="blog").exists()


def test_the_same_domain_on_two_apps_is_refused(
    crew: Crew, client: Client, server: Server, app: App
) -> None:
    client.force_login(crew.admin)
    response = client.post(reverse("app_new"), _app_form(server, domains="shop.example.com"))
    assert b"already routes to shop" in response.content


@pytest.mark.parametrize("payload", PAYLOADS)
def test_env_keys_refuse_payloads(crew: Crew, client: Client, app: App, payload: str) -> None:
    client.force_login(crew.admin)
    client.post(reverse("app_env", args=[app.pk]), {"key": payload, "value": "x"})
    assert EnvVar.objects.filter(app=app).count() == 2


def test_the_env_editor_never_shows_a_secret_value(crew: Crew, client: Client, app: App) -> None:
    client.force_login(crew.admin)
    page = client.get(reverse("app_env", args=[app.pk])).content.decode()
    assert SECRET not in page and "secret · set" in page and "production" in page
    client.post(
        reverse("app_env", args=[app.pk]),
        {"key": "API_KEY", "value": "line1\nline2 $(x) `y` 'q\"", "secret": "on"},
    )
    variable = EnvVar.objects.get(key="API_KEY")
    assert variable.value.reveal() == "line1\nline2 $(x) `y` 'q\""
    assert "line2" not in client.get(reverse("app_env", args=[app.pk])).content.decode()
    assert "line2" not in str(list(AuditEvent.objects.values_list("details", flat=True)))


def test_pages_and_the_plan_never_carry_secrets(crew: Crew, client: Client, app: App) -> None:
    client.force_login(crew.admin)
    for url in (
        reverse("app_detail", args=[app.pk]),
        reverse("app_plan", args=[app.pk]) + "?version=v3",
        reverse("app_edit", args=[app.pk]),
        reverse("app_list"),
    ):
        body = client.get(url).content.decode()
        assert SECRET not in body and "registry-pass-77" not in body, url
    plan = client.get(reverse("app_plan", args=[app.pk]) + "?version=v3").content.decode()
    assert "docker pull --quiet registry.example.com/acme/shop:v3" in plan
    assert "--env DATABASE_URL" in plan and "(stdin: registry password)" in plan


def test_deploying_queues_a_job_with_ids_only(
    crew: Crew, client: Client, app: App, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(crew.deployer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("app_deploy", args=[app.pk]), {"version": "v3"})
    job = Job.objects.get()
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    release = Release.objects.get()
    assert job.params == {"release": release.pk, "kind": "deploy", "version": "v3"}
    assert release.image == "registry.example.com/acme/shop:v3" and len(callbacks) == 1


def test_a_second_deploy_is_refused_while_the_lock_is_held(
    crew: Crew, client: Client, app: App
) -> None:
    running = Job.objects.create(
        kind="app.deploy", team=crew.team, actor_label="adam", status=JobStatus.RUNNING
    )
    locks.acquire(app.lock_name, running.pk)
    client.force_login(crew.deployer)
    response = client.post(reverse("app_deploy", args=[app.pk]), {"version": "v3"}, follow=True)
    assert b"is being deployed by job #" in response.content
    assert Job.objects.count() == 1
    assert b"Deploying now" in client.get(reverse("app_detail", args=[app.pk])).content


@pytest.mark.parametrize("tag", ["v1;ls", "$(id)", "-x", "a b", "../x"])
def test_bad_tags_are_refused(crew: Crew, client: Client, app: App, tag: str) -> None:
    client.force_login(crew.deployer)
    client.post(reverse("app_deploy", args=[app.pk]), {"version": tag})
    assert not Job.objects.exists()


def test_a_viewer_cannot_deploy_roll_back_or_stop(crew: Crew, client: Client, app: App) -> None:
    release = Release.objects.create(
        app=app, version="v1", image=f"{app.image}:v1", status="retired"
    )
    client.force_login(crew.viewer)
    for url in (
        reverse("app_deploy", args=[app.pk]),
        reverse("app_rollback", args=[app.pk, release.pk]),
        reverse("app_stop", args=[app.pk]),
        reverse("app_redeploy", args=[app.pk]),
        reverse("app_release_lock", args=[app.pk]),
    ):
        assert client.post(url, {"version": "v2"}).status_code == 403, url
    assert not Job.objects.exists()


def test_another_team_gets_404_for_every_app_page(crew: Crew, client: Client, app: App) -> None:
    client.force_login(crew.outsider)
    for name in (
        "app_detail",
        "app_edit",
        "app_env",
        "app_plan",
        "app_deploy",
        "app_stop",
        "app_delete",
    ):
        response = (
            client.post(reverse(name, args=[app.pk]))
            if name in ("app_deploy", "app_stop", "app_delete")
            else client.get(reverse(name, args=[app.pk]))
        )
        assert response.status_code == 404, name
    assert App.objects.filter(pk=app.pk).exists()


def test_an_admin_force_releases_a_stuck_lock_with_an_audit_event(
    crew: Crew, client: Client, app: App
) -> None:
    stuck = Job.objects.create(
        kind="app.deploy", team=crew.team, actor_label="dora", status=JobStatus.RUNNING
    )
    locks.acquire(app.lock_name, stuck.pk)
    client.force_login(crew.deployer)
    assert client.post(reverse("app_release_lock", args=[app.pk])).status_code == 403
    client.force_login(crew.admin)
    client.post(reverse("app_release_lock", args=[app.pk]))
    assert locks.holder_of(app.lock_name) is None
    assert AuditEvent.objects.get(action="app.lock.release").details == {"job": stuck.pk}


def test_the_app_list_shows_each_server_running_the_live_release(
    crew: Crew, client: Client, app: App, server: Server, django_assert_max_num_queries: Any
) -> None:
    release = Release.objects.create(app=app, version="v1", image=f"{app.image}:v1", status="live")
    App.objects.filter(pk=app.pk).update(current_release=release)
    Container.objects.create(release=release, server=server, role="web", name="shop-web-v1-a")
    client.force_login(crew.viewer)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("app_list")).content.decode()
    assert "v1" in page and "web-1/web" in page and "badge status-succeeded" in page


def test_app_exec_is_for_deployers_and_audited_with_the_command(
    crew: Crew, client: Client, app: App, django_capture_on_commit_callbacks: Any
) -> None:
    release = Release.objects.create(app=app, version="v1", image=f"{app.image}:v1", status="live")
    App.objects.filter(pk=app.pk).update(current_release=release)
    client.force_login(crew.viewer)
    assert (
        client.post(
            reverse("app_exec", args=[app.pk]), {"command": "id", "mode": "new"}
        ).status_code
        == 403
    )
    client.force_login(crew.deployer)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            reverse("app_exec", args=[app.pk]),
            {"command": "bin/rails db:migrate:status", "mode": "running"},
        )
    job = Job.objects.get(kind="app.exec")
    assert job.params == {"command": "bin/rails db:migrate:status", "mode": "running"}
    assert AuditEvent.objects.get(action="job.app.exec").details["command"] == (
        "bin/rails db:migrate:status"
    )


@pytest.mark.parametrize("command", ["x\x00y", "unbalanced 'quote", "a" * 5000, "  "])
def test_app_exec_refuses_commands_it_cannot_pass_safely(
    crew: Crew, client: Client, app: App, command: str
) -> None:
    client.force_login(crew.deployer)
    client.post(reverse("app_exec", args=[app.pk]), {"command": command, "mode": "new"})
    assert not Job.objects.exists()


def test_a_role_redeploy_reuses_the_live_release(
    crew: Crew, client: Client, app: App, django_capture_on_commit_callbacks: Any
) -> None:
    release = Release.objects.create(app=app, version="v1", image=f"{app.image}:v1", status="live")
    App.objects.filter(pk=app.pk).update(current_release=release)
    client.force_login(crew.deployer)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("app_role_redeploy", args=[app.pk, "web"]))
    job = Job.objects.get()
    assert job.params == {
        "release": release.pk,
        "kind": "redeploy",
        "version": "v1",
        "roles": ["web"],
    }
    assert Release.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "--upload-pack=touch /tmp/canary",
        "ext::sh -c touch% /tmp/canary",
        "-oProxyCommand=x",
        "file:///etc",
        "http://example.com/repo.git",
        "https://exa mple.com/r",
        "ftp://x/y",
        "https://example.com/r?x=1",
        "git@host:path;touch /tmp/canary",
        "https://me:hunter2@example.com/r.git",
    ],
)
def test_git_urls_that_are_not_https_ssh_or_scp_like_are_refused(
    crew: Crew, client: Client, server: Server, url: str
) -> None:
    client.force_login(crew.admin)
    response = client.post(reverse("app_new"), _app_form(server, git_url=url))
    assert response.status_code in {200, 400} and not App.objects.filter(name="blog").exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/shop.git",
        "ssh://git@example.com/acme/shop.git",
        "git@github.com:acme/shop.git",
        "https://x-token-auth@bitbucket.org/acme/shop.git",
    ],
)
def test_git_urls_of_the_usual_kinds_are_accepted(
    crew: Crew, client: Client, server: Server, url: str
) -> None:
    client.force_login(crew.admin)
    response = client.post(
        reverse("app_new"),
        _app_form(server, git_url=url, git_branch="main", dockerfile="docker/Dockerfile"),
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert App.objects.get(name="blog").git_url == url


@pytest.mark.parametrize("ref", ["-x", "a..b", "main~1^", "refs/../x", "--upload-pack=x", "a b"])
def test_bad_git_refs_are_refused(crew: Crew, client: Client, app: App, ref: str) -> None:
    App.objects.filter(pk=app.pk).update(git_url="https://example.com/acme/shop.git")
    client.force_login(crew.deployer)
    client.post(reverse("app_deploy", args=[app.pk]), {"version": ref})
    assert not Job.objects.exists()


def test_dockerfile_paths_stay_inside_the_repository(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.admin)
    for path in ("../Dockerfile", "/etc/passwd", "-f", "a/../../b"):
        response = client.post(
            reverse("app_new"),
            _app_form(server, git_url="https://example.com/r.git", dockerfile=path),
        )
        assert response.status_code == 200


def test_a_build_secret_is_secret_app_wide_and_can_stay_out_of_the_containers(
    crew: Crew, client: Client, app: App
) -> None:
    client.force_login(crew.admin)
    url = reverse("app_env", args=[app.pk])
    client.post(url, {"key": "NPM_TOKEN", "value": "npm-5ecr3t", "use": "build"})
    token = EnvVar.objects.get(key="NPM_TOKEN")
    assert token.secret and token.for_build and not token.for_containers
    assert "NPM_TOKEN" not in env.env_for_role(app, "web")
    assert env.build_secrets(app)["NPM_TOKEN"].reveal() == "npm-5ecr3t"
    page = client.get(url).content.decode()
    assert "npm-5ecr3t" not in page and "<td>build <small" in page
    assert "unused: not built from git" in page

    response = client.post(url, {"key": "ROLE_TOKEN", "value": "x", "use": "both", "role": "web"})
    assert b"belongs to the whole app" in response.content
    assert not EnvVar.objects.filter(key="ROLE_TOKEN").exists()


def test_the_app_list_comes_in_pages_and_filters_by_name(
    crew: Crew, client: Client, app: App, django_assert_max_num_queries: Any
) -> None:
    App.objects.bulk_create(
        App(team=crew.team, name=f"extra{n:02}", image="r.example/x") for n in range(60)
    )
    client.force_login(crew.viewer)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("app_list")).content.decode()
    assert first.count('<td><a href="/apps/') == 50
    assert "Page 1 of 2" in first and "61 in all" in first
    second = client.get(reverse("app_list") + "?page=2").content.decode()
    assert "extra59" in second and "shop" in second
    found = client.get(reverse("app_list") + "?q=RA5").content.decode()
    assert "extra50" in found and "extra49" not in found and "10 matching" in found
    none = client.get(reverse("app_list") + "?q=nothing").content.decode()
    assert "No app name contains “nothing”" in none


def test_the_plan_of_an_app_built_from_git_starts_with_the_build(
    crew: Crew, client: Client, app: App, server: Server
) -> None:
    second = Server.objects.create(
        team=crew.team, name="web-2", host="10.0.0.6", ssh_key=server.ssh_key
    )
    app.roles.get(name="web").servers.add(second)
    app.git_url, app.registry_username = "git@github.com:acme/shop.git", ""
    app.build_args = "LEVEL=3"
    app.save()
    services.set_env(crew.actor(crew.admin), app, "NPM_TOKEN", "npm-5ecr3t", secret=True,
                     for_containers=False, for_build=True)  # fmt: skip
    client.force_login(crew.viewer)
    page = client.get(reverse("app_plan", args=[app.pk])).content.decode()
    assert "1. Build" in page and "<b>web-1</b>" in page
    assert "resolves main to &lt;commit&gt;" in page
    assert "archive --format=tar &#x27;&lt;commit&gt;&#x27;" in page
    assert "DOCKER_BUILDKIT=1 docker build" in page
    assert "--build-arg LEVEL" in page and "--secret id=NPM_TOKEN,src=" in page
    assert "docker save" in page and "<b>web-2</b>" in page and "docker load" in page
    assert "docker pull" not in page
    assert "npm-5ecr3t" not in page and "LEVEL=3" not in page
    client.force_login(crew.deployer)
    assert "Deploy main" in client.get(reverse("app_plan", args=[app.pk])).content.decode()


def test_forgetting_the_git_host_key_is_for_admins_and_audited(
    crew: Crew, client: Client, app: App
) -> None:
    App.objects.filter(pk=app.pk).update(git_host_key="github.com ssh-ed25519 AAAA")
    url = reverse("app_forget_git_host_key", args=[app.pk])
    client.force_login(crew.deployer)
    assert client.post(url).status_code == 403
    client.force_login(crew.admin)
    client.post(url)
    app.refresh_from_db()
    assert app.git_host_key == ""
    assert AuditEvent.objects.filter(action="app.git_host_key.forget").exists()


def test_an_app_has_as_many_roles_as_it_needs_and_loses_the_ones_removed(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.admin)
    roles = [("web", [server.pk], ""), ("worker", [server.pk], "bin/work"), ("cron", [], "")]
    assert client.post(reverse("app_new"), _app_form(server, roles=roles)).status_code == 302
    app = App.objects.get(name="blog")
    assert sorted(app.roles.values_list("name", flat=True)) == ["cron", "web", "worker"]
    edit = _app_form(server, roles=roles)
    edit["roles-1-DELETE"] = "on"
    assert client.post(reverse("app_edit", args=[app.pk]), edit).status_code == 302
    assert sorted(app.roles.values_list("name", flat=True)) == ["cron", "web"]


def test_two_roles_of_one_name_are_refused(crew: Crew, client: Client, server: Server) -> None:
    client.force_login(crew.admin)
    roles = [("web", [server.pk], ""), ("web", [server.pk], "")]
    page = client.post(reverse("app_new"), _app_form(server, roles=roles)).content.decode()
    assert "There is already a role named web." in page
    assert not App.objects.exists()


def test_a_typed_password_survives_a_refused_submit_without_coming_back_in_the_page(
    crew: Crew, client: Client, server: Server
) -> None:
    client.force_login(crew.admin)
    refused = client.post(
        reverse("app_new"),
        _app_form(server, domains="not a domain!", registry_username="ci",
                  registry_password="hunter2-typed", build_args="LEVEL=s3cr3t-arg"),
    )  # fmt: skip
    page = refused.content.decode()
    assert refused.status_code == 200 and not App.objects.exists()
    assert "hunter2-typed" not in page and "s3cr3t-arg" not in page
    assert "What you typed before is kept" in page
    saved = client.post(reverse("app_new"), _app_form(server, registry_username="ci"))
    assert saved.status_code == 302
    app = App.objects.get(name="blog")
    assert app.registry_password.reveal() == "hunter2-typed"
    assert app.build_args.reveal() == "LEVEL=s3cr3t-arg"
    page = client.get(reverse("app_edit", args=[app.pk])).content.decode()
    assert "One is stored (encrypted, not shown)" in page and "hunter2-typed" not in page
