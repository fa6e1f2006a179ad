"""Runs one job inside a worker: claim it, heartbeat, log, honour cancel, finish cleanly."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import django.dispatch
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from panel.errors import PanelError
from panel.jobs import locks
from panel.jobs.log import JobLog, publish
from panel.log_kinds import LogKind
from panel.models import Job, JobStatus
from panel.sensitive import Sensitive

# Sent with `job_id` once a job's end is recorded (succeeded, failed or cancelled).
job_finished = django.dispatch.Signal()

logger = logging.getLogger(__name__)

Operation = Callable[["JobContext"], Awaitable[None] | None]
FailureHook = Callable[[Any], None]
_failure_hooks: list[tuple[type[BaseException], FailureHook]] = []


class JobCancelled(Exception):
    """Raised at a safe point after someone asked to cancel the job."""


class JobLost(Exception):
    """The job was reaped or claimed elsewhere; this worker must stop touching it."""


class JobPaused(Exception):
    """The operation stops here until it is let go on (`status` waiting, its locks freed);
    the message says what it waits for."""


class JobFailed(PanelError):
    """A failure with a message for the user; no stack trace goes to the page."""


def on_failure(kind: type[BaseException], hook: FailureHook) -> None:
    """Call `hook` with every error of this kind a job ends with (also when it is the cause of
    the error the job ended with); apps register theirs when they are ready."""
    _failure_hooks.append((kind, hook))


class JobContext:
    """What an operation gets: the job, its log, its secrets and the cancel signal."""

    def __init__(self, job: Job, log: JobLog) -> None:
        self.job = job
        self._log = log
        self.cancelled = threading.Event()
        self.lost = threading.Event()

    def log(self, text: str, kind: LogKind = LogKind.INFO) -> None:
        self._log.write(text, kind)

    def add_secret(self, secret: str | Sensitive[str]) -> None:
        """Redact this value from every later log line of the job."""
        self._log.redact.add(secret)

    def redact(self, text: str) -> str:
        return self._log.redact(text)

    def check_cancelled(self) -> None:
        if self.lost.is_set():
            raise JobLost("This job was taken over or reaped.")
        if self.cancelled.is_set():
            raise JobCancelled("Cancelled on request.")


def run_job(job_id: int, operation: Operation) -> str | None:
    """Claim the job (only one delivery wins), run the operation, record how it ended."""
    token = uuid.uuid4()
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        claim_token=token,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    if claimed != 1:
        logger.info("job %s was already claimed or cancelled; skipping", job_id)
        return None
    job = Job.objects.get(pk=job_id)
    log = JobLog(job_id)
    context = JobContext(job, log)
    keeper = _Keeper(job_id, token, log, context)
    keeper.start()
    status, error = JobStatus.SUCCEEDED, ""
    try:
        log.write(f"Job #{job_id} ({job.kind}) started on {job.worker}.")
        result = operation(context)
        if inspect.isawaitable(result):
            asyncio.run(_as_coroutine(result))
        context.check_cancelled()
    except JobPaused as paused:
        keeper.stop()
        log.write(str(paused))
        log.flush()
        pause(job_id, token)
        return str(JobStatus.WAITING)
    except JobCancelled:
        status, error = JobStatus.CANCELLED, "Cancelled on request."
    except JobLost:
        status, error = JobStatus.INTERRUPTED, "The job was reaped while running."
    except SoftTimeLimitExceeded:
        status, error = JobStatus.FAILED, "The job ran past its time limit."
    except PanelError as failure:
        status, error = JobStatus.FAILED, str(failure)
        _call_failure_hooks(failure)
    except Exception as failure:
        logger.exception("job %s failed", job_id)
        status, error = JobStatus.FAILED, f"Unexpected error: {type(failure).__name__}: {failure}"
    finally:
        keeper.stop()
    error = log.redact(error)
    log.write(error or "Job succeeded.", LogKind.ERROR if error else LogKind.INFO)
    log.flush()
    finish(job_id, token, status, error)
    return str(status)


def pause(job_id: int, token: uuid.UUID) -> None:
    """Waiting holds no worker and no lock; the reaper leaves a waiting job alone."""
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, claim_token=token).update(
        status=JobStatus.WAITING, heartbeat_at=None
    )
    locks.release_all(job_id)
    publish(job_id, [], end=True)


def finish(job_id: int, token: uuid.UUID | None, status: str, error: str) -> bool:
    """Record the end (unless someone else already did) and free the job's locks."""
    rows = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING)
    if token is not None:
        rows = rows.filter(claim_token=token)
    ended = rows.update(status=status, finished_at=timezone.now(), error=error) == 1
    locks.release_all(job_id)
    publish(job_id, [], end=True)
    if ended:
        for receiver, failure in job_finished.send_robust(sender=Job, job_id=job_id):
            if isinstance(failure, Exception):
                logger.error("after job %s ended, %s failed: %r", job_id, receiver, failure)
    return ended


def _call_failure_hooks(failure: BaseException) -> None:
    chain: list[BaseException] = []
    link: BaseException | None = failure
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    for error in chain:
        for kind, hook in _failure_hooks:
            if isinstance(error, kind):
                try:
                    hook(error)
                except Exception:
                    logger.exception("a failure hook failed for %r", error)


async def _as_coroutine(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class _Keeper(threading.Thread):
    """Flushes the log often (live pages) and heartbeats; notices cancel requests."""

    def __init__(self, job_id: int, token: uuid.UUID, log: JobLog, context: JobContext) -> None:
        super().__init__(name=f"job-{job_id}-keeper", daemon=True)
        self.job_id, self.token, self.log, self.context = job_id, token, log, context
        self._stopping = threading.Event()

    def run(self) -> None:
        interval = settings.PANEL_JOB_HEARTBEAT_SECONDS
        next_beat = 0.0
        try:
            while not self._stopping.is_set():
                self.log.wait_for_lines(0.1)
                self.log.flush()
                clock = timezone.now().timestamp()
                if clock >= next_beat:
                    self._beat()
                    next_beat = clock + interval
        finally:
            connection.close()

    def _beat(self) -> None:
        try:
            alive = Job.objects.filter(
                pk=self.job_id, status=JobStatus.RUNNING, claim_token=self.token
            ).update(heartbeat_at=timezone.now())
            if alive != 1:
                self.context.lost.set()
                return
            cancel_at = Job.objects.filter(pk=self.job_id).values_list(
                "cancel_requested_at", flat=True
            )[0]
            if cancel_at is not None:
                self.context.cancelled.set()
        except Exception:  # a busy database must not kill the job; try again next beat
            logger.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
            close_old_connections()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=10)
