"""From "deploy commit" to serving: the panel building from git and deploying, vs a bare
script doing `git archive | ssh docker build -` and the same deploy steps (run, health poll,
proxy switch, drain, stop old). Each run deploys a new commit; the ratio of the medians."""

from __future__ import annotations

import secrets
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

from bench.deploy_overhead import BARE_SCRIPT, add_bare_route
from bench.panel_env import (
    deploy,
    lab_fixture,
    make_app,
    remove_app,
    report_against_bare,
    setup_django,
)
from tests.lab.lab import LabHost

RUNS = 5
DOCKERFILE = "FROM panel-lab/app:v1\nCOPY index.html /www/index.html\n"
# The bare deploy after its build: the same steps as bench.deploy_overhead, minus login/pull.
SKIPPED = ("REGISTRY_PASSWORD", "docker login", "docker pull")
BARE_DEPLOY = "\n".join(
    line for line in BARE_SCRIPT.splitlines() if not any(word in line for word in SKIPPED)
)


def new_commit(repo: Path, body: str) -> str:
    (repo / "Dockerfile").write_text(DOCKERFILE)
    (repo / "index.html").write_text(body + "\n")
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=b@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", body], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def bare(repo: Path, sha: str, host: LabHost, known_hosts: Path, old: str) -> tuple[float, str]:
    name = f"bare-{sha[:8]}-{secrets.token_hex(2)}"
    image = f"bench/bare:{sha}"
    ssh = [
        "ssh",
        "-i",
        str(host.client_key),
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "BatchMode=yes",
        f"{host.user}@{host.address}",
    ]
    started = time.perf_counter()
    archive = subprocess.Popen(
        ["git", "-C", str(repo), "archive", "--format=tar", sha], stdout=subprocess.PIPE
    )
    subprocess.run(
        [*ssh, shlex.join(["docker", "build", "-q", "-t", image, "-"])],
        stdin=archive.stdout,
        check=True,
        capture_output=True,
    )
    archive.wait()
    script = BARE_DEPLOY.replace(
        "image=$1; name=$2; old=$3; registry=$4; user=$5", "image=$1; name=$2; old=$3"
    )
    subprocess.run(
        [*ssh, shlex.join(["sh", "-s", "--", image, name, old])], input=script.encode(), check=True
    )
    return time.perf_counter() - started, name


def main() -> None:
    setup_django()
    fixture = lab_fixture()
    server, host = fixture.servers[0], fixture.lab.hosts[0]
    add_bare_route(fixture)
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "site"
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
        new_commit(repo, "start")
        app = make_app(
            fixture,
            "buildbench",
            [server],
            image="panel-lab/buildbench",
            registry_username="",
            git_url=str(repo),
            deploy_timeout=30,
        )
        known_hosts = Path(scratch) / "known_hosts"
        known_hosts.write_text(f"{host.address} {host.host_public_key}\n")
        deploy(app, "")
        _, old = bare(repo, new_commit(repo, "bare start"), host, known_hosts, "")
        panel_times, bare_times = [], []
        for index in range(RUNS):
            new_commit(repo, f"panel {index}")
            panel_times.append(deploy(app, ""))
            took, old = bare(repo, new_commit(repo, f"bare {index}"), host, known_hosts, old)
            bare_times.append(took)
        remove_app(app, [server])
    report_against_bare(panel_times, bare_times)


if __name__ == "__main__":
    main()
