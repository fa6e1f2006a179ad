from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from panel.jobs import locks, reaper, services
from panel.jobs.log import JobLog, Redactor
from panel.jobs.runner import JobContext, JobFailed, run_job
from panel.models import Job, JobKind, JobStatus
from tests.conftest import Crew


class FakeTask:
    """Records what would be sent to the broker (orchestration only; no worker here)."""

    def __init__(self) -> None:
        self.sent: list[object] = []

    def delay(self, *args: object) -> None:
        self.sent.append(args)


def _job(crew: Crew, **fields: Any) -> Job:
    return Job.objects.create(kind="test", team=crew.team, actor_label="dora", **fields)


def _log_text(job: Job) -> str:
    return "\n".join(job.log_lines.values_list("text", flat=True))


@pytest.mark.django_db(transaction=True)
def test_enqueue_creates_an_audited_job_and_sends_its_id_after_commit(crew: Crew) -> None:
    task = FakeTask()
    job = services.enqueue(
        kind=JobKind.AUDIT_VERIFY, team=crew.team, actor=crew.actor(crew.deployer), task=task
    )
    assert task.sent == [(job.pk,)]
    assert job.status == JobStatus.QUEUED
    assert crew.team.jobs.get() == job


@pytest.mark.django_db(transaction=True)
def test_a_job_delivered_twice_runs_once(crew: Crew) -> None:
    job = _job(crew)
    runs: list[int] = []
    assert run_job(job.pk, lambda ctx: runs.append(1)) == "succeeded"
    assert run_job(job.pk, lambda ctx: runs.append(1)) is None
    assert runs == [1]


@pytest.mark.django_db(transaction=True)
def test_a_failed_job_keeps_its_log_and_a_plain_error(crew: Crew) -> None:
    job = _job(crew)

    def operation(ctx: JobContext) -> None:
        ctx.log("step one")
        raise JobFailed("The health check failed.")

    assert run_job(job.pk, operation) == "failed"
    job.refresh_from_db()
    assert job.error == "The health check failed." and job.finished_at is not None
    assert "step one" in _log_text(job)


@pytest.mark.django_db(transaction=True)
def test_an_async_operation_runs_to_the_end(crew: Crew) -> None:
    job = _job(crew)

    async def operation(ctx: JobContext) -> None:
        ctx.log("from a coroutine")

    assert run_job(job.pk, operation) == "succeeded"
    assert "from a coroutine" in _log_text(job)


@pytest.mark.django_db(transaction=True)
def test_secret_values_never_reach_the_stored_log(crew: Crew) -> None:
    job = _job(crew)

    def operation(ctx: JobContext) -> None:
        ctx.add_secret("pa55-word")
        ctx.add_secret("-----BEGIN KEY-----\nAAAAbbbbCCCC\n-----END KEY-----")
        ctx.log("docker login -p pa55-word registry")
        ctx.log("key line AAAAbbbbCCCC")
        raise JobFailed("login with pa55-word refused")

    run_job(job.pk, operation)
    job.refresh_from_db()
    text = _log_text(job) + job.error
    assert "pa55-word" not in text and "AAAAbbbbCCCC" not in text
    assert text.count("[REDACTED]") >= 3


def test_the_redactor_replaces_longer_secrets_first() -> None:
    redact = Redactor()
    redact.add("abcd")
    redact.add("abcdefgh")
    assert redact("x abcdefgh y abcd") == "x [REDACTED] y [REDACTED]"


@pytest.mark.django_db(transaction=True)
def test_log_lines_get_consecutive_numbers_across_writers(crew: Crew) -> None:
    job = _job(crew)
    first, second = JobLog(job.pk), JobLog(job.pk)
    first.write("a\nb")
    first.flush()
    second.write("c")
    second.flush()
    assert list(job.log_lines.values_list("seq", "text")) == [(0, "a"), (1, "b"), (2, "c")]


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_queued_job_ends_it_at_once(crew: Crew) -> None:
    job = _job(crew)
    assert services.cancel(job, crew.actor(crew.deployer)) == "cancelled"
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert run_job(job.pk, lambda ctx: None) is None


@pytest.mark.django_db(transaction=True)
def test_a_running_job_notices_cancel_within_seconds_and_cleans_up(crew: Crew) -> None:
    job = _job(crew)
    started, cleaned = threading.Event(), threading.Event()

    def operation(ctx: JobContext) -> None:
        started.set()
        try:
            while True:
                ctx.check_cancelled()
                time.sleep(0.05)
        finally:
            cleaned.set()

    outcome: list[str | None] = []

    def work() -> None:
        outcome.append(run_job(job.pk, operation))
        connection.close()  # a worker thread of the test: leave no session behind

    worker = threading.Thread(target=work)
    worker.start()
    assert started.wait(5)
    asked = time.monotonic()
    assert services.cancel(job, crew.actor(crew.deployer)) == "cancel requested"
    worker.join(10)
    assert outcome == ["cancelled"] and cleaned.is_set()
    assert time.monotonic() - asked < 3
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED


@pytest.mark.django_db(transaction=True)
def test_the_reaper_interrupts_silent_jobs_and_frees_their_locks(crew: Crew) -> None:
    stale = _job(crew, status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5))
    fresh = _job(crew, status=JobStatus.RUNNING, heartbeat_at=timezone.now())
    assert locks.acquire("deploy:app-1", stale.pk) is not None
    interrupted: list[int] = []
    reaper.job_interrupted.connect(
        lambda sender, job, **kw: interrupted.append(job.pk), weak=False, dispatch_uid="t"
    )
    try:
        assert reaper.reap_stale() == [stale.pk]
    finally:
        reaper.job_interrupted.disconnect(dispatch_uid="t")
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == JobStatus.INTERRUPTED and fresh.status == JobStatus.RUNNING
    assert locks.holder_of("deploy:app-1") is None and interrupted == [stale.pk]
    assert "No heartbeat" in _log_text(stale)


@pytest.mark.django_db(transaction=True)
def test_a_reaped_job_stops_at_its_next_safe_point(crew: Crew, settings: SettingsWrapper) -> None:
    job = _job(crew)

    def operation(ctx: JobContext) -> None:
        Job.objects.filter(pk=job.pk).update(status=JobStatus.INTERRUPTED)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            ctx.check_cancelled()
            time.sleep(0.05)

    assert run_job(job.pk, operation) == "interrupted"
    job.refresh_from_db()
    assert job.status == JobStatus.INTERRUPTED


@pytest.mark.django_db(transaction=True)
def test_a_lock_admits_one_job_and_fences_each_holder(crew: Crew) -> None:
    first, second = _job(crew, status=JobStatus.RUNNING), _job(crew, status=JobStatus.RUNNING)
    held = locks.acquire("deploy:web", first.pk)
    assert held is not None and locks.acquire("deploy:web", second.pk) is None
    assert locks.acquire("deploy:web", first.pk) == held
    locks.release_all(first.pk)
    again = locks.acquire("deploy:web", second.pk)
    assert again is not None and again.fence == held.fence + 1
    assert not locks.is_current(held) and locks.is_current(again)


@pytest.mark.django_db(transaction=True)
def test_a_lock_whose_holder_ended_is_free(crew: Crew) -> None:
    first, second = _job(crew, status=JobStatus.RUNNING), _job(crew, status=JobStatus.RUNNING)
    locks.acquire("deploy:web", first.pk)
    Job.objects.filter(pk=first.pk).update(status=JobStatus.FAILED)
    assert locks.acquire("deploy:web", second.pk) is not None


def test_logs_of_jobs_that_ended_long_ago_are_pruned_and_the_page_says_so(
    crew: Crew, client: Any, settings: SettingsWrapper
) -> None:
    from django.urls import reverse

    from panel.models import JobLogLine
    from panel.tasks import prune_job_logs

    settings.PANEL_JOB_LOG_DAYS = 30
    long_ago = timezone.now() - timedelta(days=31)
    old = _job(crew, status=JobStatus.SUCCEEDED, finished_at=long_ago)
    recent = _job(crew, status=JobStatus.FAILED, finished_at=timezone.now())
    running = _job(crew, status=JobStatus.RUNNING)
    Job.objects.filter(pk=running.pk).update(created_at=long_ago)
    for job in (old, recent, running):
        log = JobLog(job.pk)
        log.write("one\ntwo")
        log.flush()

    assert prune_job_logs() == 2
    assert set(JobLogLine.objects.values_list("job_id", flat=True)) == {recent.pk, running.pk}
    client.force_login(crew.viewer)
    page = client.get(reverse("job_detail", args=[old.pk])).content.decode()
    assert "log was removed 30 days after it ended" in page

    settings.PANEL_JOB_LOG_DAYS = 0
    Job.objects.filter(pk=recent.pk).update(finished_at=long_ago)
    assert prune_job_logs() == 0
