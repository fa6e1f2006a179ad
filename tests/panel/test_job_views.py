from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import timezone

from deployments.models import App
from panel.jobs.log import JobLog
from panel.models import Job, JobStatus
from tests.conftest import Crew


def _job(crew: Crew, status: str = JobStatus.RUNNING) -> Job:
    return Job.objects.create(kind="deploy", team=crew.team, actor_label="dora", status=status)


def test_html_in_log_lines_is_shown_as_text(crew: Crew, client: Client) -> None:
    job = _job(crew)
    log = JobLog(job.pk)
    log.write("<script>alert(1)</script>")
    log.flush()
    client.force_login(crew.viewer)
    page = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_another_team_gets_404_for_a_job(crew: Crew, client: Client) -> None:
    job = _job(crew)
    client.force_login(crew.outsider)
    assert client.get(reverse("job_detail", args=[job.pk])).status_code == 404
    assert client.post(reverse("job_cancel", args=[job.pk])).status_code == 404


def test_a_viewer_cannot_cancel_a_job(crew: Crew, client: Client) -> None:
    job = _job(crew)
    client.force_login(crew.viewer)
    assert client.post(reverse("job_cancel", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.cancel_requested_at is None


def test_a_deployer_asks_a_running_job_to_cancel(crew: Crew, client: Client) -> None:
    job = _job(crew)
    client.force_login(crew.deployer)
    assert client.post(reverse("job_cancel", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert job.cancel_requested_at is not None


async def _read_stream(client: AsyncClient, url: str, **headers: str) -> str:
    response = await client.get(url, headers=headers)
    assert response["Content-Type"].startswith("text/event-stream")
    chunks = [chunk async for chunk in response.streaming_content]  # type: ignore[attr-defined]
    return "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)


@pytest.mark.django_db(transaction=True)
def test_the_stream_replays_after_the_cursor_then_follows_until_the_end(crew: Crew) -> None:
    job = _job(crew)
    log = JobLog(job.pk)
    log.write("one\ntwo")
    log.flush()

    async def scenario() -> str:
        client = AsyncClient()
        await client.aforce_login(crew.viewer)
        reader = asyncio.create_task(
            _read_stream(client, reverse("job_stream", args=[job.pk]), **{"Last-Event-ID": "0"})
        )
        await asyncio.sleep(0.5)
        await asyncio.to_thread(_finish_with_line, job.pk)
        body = await asyncio.wait_for(reader, 10)
        await sync_to_async(_close_connection)()  # the database thread of the view
        return body

    body = asyncio.run(scenario())
    assert "<span>one</span>" not in body
    assert body.index("<span>two</span>") < body.index("<span>three</span>")
    assert body.index("<span>three</span>") < body.index("event: end")
    assert 'id: 2\nevent: line\ndata: <div class="line kind-' in body
    end = body[body.index("event: end") :]
    assert '<span id="job-status" class="status status-succeeded">Succeeded</span>' in end
    assert 'id="job-error" hx-swap-oob="true" hidden' in end and "Finished" in end


def test_a_job_page_links_its_target_and_has_a_place_for_the_error(
    crew: Crew, client: Client
) -> None:
    app = App.objects.create(team=crew.team, name="shop", image="registry.example.com/shop")
    job = Job.objects.create(
        kind="app.deploy",
        team=crew.team,
        actor_label="dora",
        target_type="deployments.app",
        target_id=str(app.pk),
        target_label="shop",
        params={"version": "v7"},
    )
    client.force_login(crew.viewer)
    page = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert f'href="/apps/{app.pk}" id="job-target"' in page and "· v7 ·" in page
    assert '<p class="form-error" id="job-error" hidden>' in page
    listing = client.get(reverse("job_list")).content.decode()
    assert "<td>v7</td>" in listing and "just now" in listing


def _finish_with_line(job_id: int) -> None:
    log = JobLog(job_id)
    log.write("three")
    log.flush()
    Job.objects.filter(pk=job_id).update(status=JobStatus.SUCCEEDED, finished_at=timezone.now())
    connection.close()  # this runs in a helper thread: leave no session behind


@pytest.mark.django_db(transaction=True)
def test_the_stream_refuses_anonymous_and_other_teams(crew: Crew) -> None:
    job = _job(crew, status=JobStatus.SUCCEEDED)

    async def scenario() -> tuple[int, int]:
        anonymous = await AsyncClient().get(reverse("job_stream", args=[job.pk]))
        outsider = AsyncClient()
        await outsider.aforce_login(crew.outsider)
        other = await outsider.get(reverse("job_stream", args=[job.pk]))
        await sync_to_async(_close_connection)()
        return anonymous.status_code, other.status_code

    assert asyncio.run(scenario()) == (401, 404)


def _close_connection() -> None:
    connection.close()
