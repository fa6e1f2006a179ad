"""Bootstrap replaces the proxy only once the new one can run: an image the server cannot
pull leaves the running proxy serving every app, without one failed request."""

from __future__ import annotations

import threading

import pytest

from panel.jobs.runner import run_job
from servers.models import Server
from servers.operations.bootstrap import bootstrap
from tests.conftest import Crew
from tests.deployments.conftest import MakeApp, fetch, job_for, log_of, wait_for_body
from tests.deployments.test_deploy_lab import deploy_version
from tests.lab.lab import Lab

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]


def test_a_proxy_image_that_cannot_be_pulled_changes_nothing_and_drops_no_request(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[0]
    app = make_app("steady", [server])
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    wait_for_body(server, "steady.lab.test", b"v1")
    good_image = server.proxy_image
    Server.objects.filter(pk=server.pk).update(proxy_image=f"{lab.registry}/lab/no-such-proxy:1")
    server.refresh_from_db()
    answers: list[int] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            answers.append(fetch(server, "steady.lab.test")[0])

    loader = threading.Thread(target=load)
    loader.start()
    try:
        job = job_for(crew, "server.bootstrap", server)
        outcome = run_job(job.pk, bootstrap)
    finally:
        stop.set()
        loader.join()
        Server.objects.filter(pk=server.pk).update(proxy_image=good_image)
    job.refresh_from_db()
    assert outcome == "failed", log_of(job)
    assert "cannot pull the proxy image" in job.error and "keeps serving" in job.error
    assert "Set a Proxy image this server can pull" in job.error
    assert len(answers) > 10 and all(status == 200 for status in answers), answers[-5:]
    server.refresh_from_db()
    assert server.proxy_running, "the facts were read again after the failure"
    wait_for_body(server, "steady.lab.test", b"v1")


def test_a_new_proxy_that_does_not_start_gives_way_to_the_previous_one(
    crew: Crew, lab: Lab, web_servers: list[Server], make_app: MakeApp
) -> None:
    server = web_servers[1]
    app = make_app("fallback", [server])
    assert deploy_version(crew, app, "v1")[0] == "succeeded"
    good_image = server.proxy_image
    # An image the server has, that is no proxy: the replacement cannot start.
    Server.objects.filter(pk=server.pk).update(proxy_image=lab.app_images["v1"])
    try:
        job = job_for(crew, "server.bootstrap", server)
        outcome = run_job(job.pk, bootstrap)
    finally:
        Server.objects.filter(pk=server.pk).update(proxy_image=good_image)
    job.refresh_from_db()
    assert outcome == "failed" and "the previous proxy is serving again" in job.error
    wait_for_body(server, "fallback.lab.test", b"v1")
    again = job_for(crew, "server.bootstrap", server)
    assert run_job(again.pk, bootstrap) == "succeeded", log_of(again)
    wait_for_body(server, "fallback.lab.test", b"v1")
