"""Builds from git on the lab: a repository made here, built on a lab host, copied to the
other host without a registry, deployed; a failed build leaves the live release alone."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from deployments import git, services
from deployments.models import App, Container, Release, ReleaseStatus
from deployments.operations.deploy import deploy
from panel.jobs.runner import run_job
from panel.models import AuditEvent
from panel.sensitive import Sensitive
from servers import keys, ssh
from servers.models import Server
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments import https_git
from tests.deployments.conftest import MakeApp, job_for, log_of, wait_for_body
from tests.lab.lab import Lab, LabHost
from tests.servers.conftest import lab_key

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def commit(
    repo: Path,
    body: str,
    dockerfile: str = "FROM panel-lab/app:v1\nCOPY index.html /www/index.html\n",
) -> str:
    (repo / "Dockerfile").write_text(dockerfile)
    (repo / "index.html").write_text(body + "\n")
    git = ["git", "-C", str(repo), "-c", "user.name=lab", "-c", "user.email=lab@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", f"show {body}"], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def new_repo(repo: Path, body: str, dockerfile: str = "") -> str:
    """A repository with one commit; its SHA."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    return commit(repo, body, dockerfile) if dockerfile else commit(repo, body)


def served_over_ssh(host: LabHost, work: Path) -> tuple[str, Path]:
    """`work` as a bare repository in a lab host user's home, served by its sshd as a git host
    serves one: its ssh URL and its folder (removed by the caller)."""
    served = Path(f"/home/{host.user}/{work.name}-{uuid.uuid4().hex[:6]}.git")
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(served)], check=True)
    subprocess.run(["chown", "-R", f"{host.user}:{host.user}", str(served)], check=True)
    return f"ssh://{host.user}@{host.address}{served}", served


def deploy_ref(crew: Crew, app: App, ref: str = "") -> tuple[str | None, Release, str]:
    release = Release.objects.create(app=app, version=ref, image="", kind="deploy")
    job = job_for(crew, "app.deploy", app, release=release.pk, kind="deploy")
    outcome = run_job(job.pk, deploy)
    release.refresh_from_db()
    return outcome, release, log_of(job)


def test_build_from_git_deploy_a_new_commit_and_skip_a_built_one(
    crew: Crew, web_servers: list[Server], make_app: MakeApp, tmp_path: Path
) -> None:
    repo = tmp_path / "site"
    first = new_repo(repo, "git-one")
    servers = web_servers[:2]
    app = make_app(
        "fromgit",
        servers,
        image="panel-lab/fromgit",
        registry_username="",
        git_url=str(repo),
        git_branch="main",
    )

    outcome, release, log = deploy_ref(crew, app)
    assert outcome == "succeeded", log
    assert release.commit == first and release.commit_message == "show git-one"
    assert "docker build --tag panel-lab/fromgit:" in log and "docker load" in log
    for server in servers:
        wait_for_body(server, "fromgit.lab.test", b"git-one")

    second = commit(repo, "git-two")
    outcome, release, log = deploy_ref(crew, app)
    assert outcome == "succeeded", log
    assert release.commit == second
    wait_for_body(servers[1], "fromgit.lab.test", b"git-two")

    outcome, release, log = deploy_ref(crew, app, first[:12])
    assert outcome == "succeeded", log
    assert "is built already; no build." in log
    wait_for_body(servers[0], "fromgit.lab.test", b"git-one")

    commit(repo, "broken", dockerfile="FROM panel-lab/app:v1\nRUN exit 7\n")
    outcome, release, log = deploy_ref(crew, app)
    assert outcome == "failed" and "The build failed" in log
    assert release.status == ReleaseStatus.FAILED
    wait_for_body(servers[0], "fromgit.lab.test", b"git-one")


def test_a_repository_over_ssh_with_a_deploy_key(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp, tmp_path: Path
) -> None:
    """The repository is served by a lab host's sshd; the panel reads it with a deploy key
    (an SSH key of the team), never asking for a password."""
    work = tmp_path / "site"
    new_repo(work, "over-ssh")
    host = lab.hosts[1]
    url, served = served_over_ssh(host, work)
    try:
        key = lab_key(crew, lab.hosts[0])
        app = make_app(
            "overssh",
            web_servers[:1],
            image="panel-lab/overssh",
            registry_username="",
            git_url=url,
            git_key=key,
        )
        outcome, release, log = deploy_ref(crew, app)
        assert outcome == "succeeded", log
        assert release.commit_message == "show over-ssh"
        wait_for_body(web_servers[0], "overssh.lab.test", b"over-ssh")
        assert key.private_key.reveal().splitlines()[1] not in log

        # The host's key was trusted on this first fetch, and is required from now on.
        app.refresh_from_db()
        host_fingerprint = keys.fingerprint(host.host_public_key)
        assert git.host_key_fingerprints(app.git_host_key) == [host_fingerprint]
        assert f"Trusted the git host's key on first use: {host_fingerprint}" in log
        assert AuditEvent.objects.filter(action="app.git_host_key.trust").exists()
        impostor = f"{host.address} {lab.hosts[0].host_public_key}\n"
        App.objects.filter(pk=app.pk).update(git_host_key=impostor)
        app.refresh_from_db()
        outcome, release, log = deploy_ref(crew, app)
        assert outcome == "failed" and "is not the one this app trusted" in log, log
        assert release.status == ReleaseStatus.FAILED

        services.forget_git_host_key(crew.actor(crew.admin), app)
        app.refresh_from_db()
        outcome, _, log = deploy_ref(crew, app)
        assert outcome == "succeeded", log
        app.refresh_from_db()
        assert git.host_key_fingerprints(app.git_host_key) == [host_fingerprint]
    finally:
        shutil.rmtree(served, ignore_errors=True)


def test_build_arguments_reach_the_build_and_stay_out_of_the_log(
    crew: Crew, web_servers: list[Server], make_app: MakeApp, tmp_path: Path
) -> None:
    repo = tmp_path / "args"
    new_repo(
        repo,
        "unused",
        dockerfile=(
            "FROM panel-lab/app:v1\nARG GREETING\nRUN printf '%s' \"$GREETING\" > /www/index.html\n"
        ),
    )
    value = "hello 'quoted' $(not run) arg-5ecr3t"
    app = make_app(
        "buildargs",
        web_servers[:1],
        image="panel-lab/buildargs",
        registry_username="",
        git_url=str(repo),
        build_args=f"GREETING={value}",
    )
    outcome, _, log = deploy_ref(crew, app)
    assert outcome == "succeeded", log
    assert "--build-arg GREETING" in log and "arg-5ecr3t" not in log
    wait_for_body(web_servers[0], "buildargs.lab.test", value.encode())


def test_a_chosen_build_server_pushes_to_the_registry_and_the_others_pull(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp, tmp_path: Path
) -> None:
    repo = tmp_path / "pushed"
    new_repo(repo, "pushed")
    builder, servers = web_servers[2], web_servers[:2]
    app = make_app(
        "pushed",
        servers,
        image=f"{lab.registry}/lab/pushed",
        git_url=str(repo),
        build_server=builder,
    )
    outcome, release, log = deploy_ref(crew, app)
    assert outcome == "succeeded", log
    assert f"[{builder.name}] docker build --tag {lab.registry}/lab/pushed:" in log
    assert f"[{builder.name}] docker push --quiet" in log and "docker load" not in log
    for server in servers:
        assert f"[{server.name}] docker pull --quiet {release.image}" in log
        wait_for_body(server, "pushed.lab.test", b"pushed")


def test_a_build_secret_reaches_the_build_and_nothing_else(
    crew: Crew, web_servers: list[Server], make_app: MakeApp, tmp_path: Path
) -> None:
    """BuildKit mounts the secret for one RUN step: the image records only its hash; the
    image's history, the containers, the job log and the build server keep no copy."""
    repo = tmp_path / "secret"
    new_repo(
        repo,
        "unused",
        dockerfile=(
            "FROM panel-lab/app:v1\n"
            "RUN --mount=type=secret,id=NPM_TOKEN "
            "sha256sum /run/secrets/NPM_TOKEN | cut -c1-64 > /www/index.html\n"
        ),
    )
    token = "npm-5ecr3t 'quoted' $(not run)\nsecond line"
    server = web_servers[0]
    app = make_app(
        "buildsecret",
        [server],
        image="panel-lab/buildsecret",
        registry_username="",
        git_url=str(repo),
    )
    services.set_env(
        crew.actor(crew.admin), app, "NPM_TOKEN", token, secret=True, for_containers=False,
        for_build=True,
    )  # fmt: skip
    outcome, release, log = deploy_ref(crew, app)
    assert outcome == "succeeded", log
    assert "DOCKER_BUILDKIT=1" in log and "--secret id=NPM_TOKEN,src=" in log
    assert "5ecr3t" not in log
    wait_for_body(
        server, "buildsecret.lab.test", hashlib.sha256(token.encode()).hexdigest().encode()
    )

    target = target_for(server)
    container = Container.objects.get(release=release).name
    shown = asyncio.run(
        ssh.run(
            target,
            ["sh", "-c", 'docker history --no-trunc "$0"; docker image inspect "$0"; '
             'docker inspect "$1"; ls -a ~/.panel/apps/buildsecret', release.image, container],
        )
    ).stdout  # fmt: skip
    assert "5ecr3t" not in shown and "NPM_TOKEN=" not in shown
    assert "build" not in shown.split()


def test_a_repository_over_https_with_a_token(
    crew: Crew,
    web_servers: list[Server],
    make_app: MakeApp,
    tmp_path: Path,
    settings: Settings,
) -> None:
    """git asks for credentials after the host's 401 and gets the token from the askpass
    helper; a wrong token fails the deploy with git's words, and no token is ever logged."""
    work, bare = tmp_path / "work", tmp_path / "site.git"
    new_repo(work, "over-https")
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    token = "ghp_" + uuid.uuid4().hex
    with https_git.serving(bare, "x-access-token", token, tmp_path) as host:
        settings.PANEL_GIT_CA_FILE = str(host.ca_file)
        app = make_app(
            "overhttps",
            web_servers[:1],
            image="panel-lab/overhttps",
            registry_username="",
            git_url=host.url,
            git_token=token,
        )
        outcome, release, log = deploy_ref(crew, app)
        assert outcome == "succeeded", log
        assert release.commit_message == "show over-https"
        assert 401 in host.statuses and 200 in host.statuses
        assert token not in log
        wait_for_body(web_servers[0], "overhttps.lab.test", b"over-https")

        wrong = "ghp_" + uuid.uuid4().hex
        app.git_token = Sensitive(wrong)
        app.save()
        outcome, release, log = deploy_ref(crew, app)
        assert outcome == "failed" and "Authentication failed" in log
        assert wrong not in log and token not in log
        assert release.status == ReleaseStatus.FAILED
        wait_for_body(web_servers[0], "overhttps.lab.test", b"over-https")
