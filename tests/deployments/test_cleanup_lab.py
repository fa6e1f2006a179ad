"""Docker cleanup on a lab host: after v1 and v2 of an app are deployed, an image of the app's
repository that no release uses, an untagged image and a container of the app left behind
are removed and the space is reported; the retained releases' images, other software's
images and a volume not listed stay; a schedule's cleanup takes what is a candidate when it
runs; a rollback to v1 works afterwards."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from deployments import services
from deployments.operations.cleanup import cleanup, found_now
from panel.jobs.runner import run_job
from servers import ssh
from servers.models import Server
from servers.operations.docker_disk import read_df
from servers.targets import target_for
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp, log_of
from tests.deployments.test_deploy_lab import deploy_version

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def _on(server: Server, *argv: str, stdin: bytes | None = None) -> str:
    return asyncio.run(ssh.run(target_for(server), list(argv), stdin=stdin)).stdout.strip()


def _built(server: Server, base: str, tag: str = "") -> str:
    """An image of its own (a label on `base`), tagged or left untagged; its id."""
    dockerfile = f"FROM {base}\nLABEL panel.test.nonce={uuid.uuid4().hex}\n".encode()
    tagged = ["--tag", tag] if tag else []
    return _on(server, "docker", "build", "--quiet", *tagged, "-", stdin=dockerfile)


def test_cleanup_removes_only_what_no_release_needs(
    crew: Crew, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[2]
    app = make_app("tidy", [server])
    for version in ("v1", "v2"):
        assert deploy_version(crew, app, version)[0] == "succeeded"
    unused = _built(server, f"{app.image}:v1", f"{app.image}:unused")
    untagged = _built(server, f"{app.image}:v1")
    _on(server, "docker", "create", "--name", "tidy-web-old", "--label", "panel.app=tidy",
        f"{app.image}:unused")  # fmt: skip
    volume = f"tidy-keep-{uuid.uuid4().hex[:6]}"
    _on(server, "docker", "volume", "create", volume)

    df = asyncio.run(read_df(target_for(server)))
    found = found_now(server, df, {"cache_days": 7, "volumes": []})
    keys = {item.key for item in found}
    assert {f"image:{unused}", f"image:{untagged}"} <= keys
    assert any(item.kind == "container" and item.label == "tidy-web-old" for item in found)
    labels = " ".join(item.label for item in found)
    assert f"{app.image}:v1" not in labels and f"{app.image}:v2" not in labels
    assert "panel-lab/" not in labels and volume not in labels  # not the panel's, not listed

    job = services.start_cleanup(crew.actor(crew.admin), server, items=sorted(keys),
                                 cache_days=7, volumes=[])  # fmt: skip
    assert run_job(job.pk, cleanup) == "succeeded", log_of(job)
    log = log_of(job)
    assert "Freed" in log and "tidy-web-old" in log
    images = _on(server, "docker", "image", "ls", "--quiet", "--no-trunc")
    assert unused not in images and untagged not in images
    assert _on(server, "docker", "image", "inspect", "--format", "ok", f"{app.image}:v1") == "ok"
    assert _on(server, "docker", "volume", "inspect", "--format", "ok", volume) == "ok"
    _on(server, "docker", "volume", "rm", volume)

    # A schedule's cleanup takes every candidate of the moment it runs.
    _on(server, "docker", "create", "--name", "tidy-web-older", "--label", "panel.app=tidy",
        f"{app.image}:v1")  # fmt: skip
    scheduled = services.start_cleanup(crew.actor(crew.admin), server, items=[], cache_days=7,
                                       volumes=[], every=True)  # fmt: skip
    assert run_job(scheduled.pk, cleanup) == "succeeded", log_of(scheduled)
    assert "tidy-web-older" in log_of(scheduled)
    names = _on(server, "docker", "ps", "-a", "--format", "{{.Names}}")
    assert "tidy-web-older" not in names.split()

    outcome, back = deploy_version(crew, app, "v1", kind="rollback")
    assert outcome == "succeeded", back.log  # type: ignore[attr-defined]
