"""Jobs: list, follow (the log after a line number), cancel; and the answer of every
operation that starts one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.params.functions import Query as QueryParam
from ninja.responses import Status

from panel.api.auth import actor_of, needs
from panel.api.lookup import by_pk, in_teams
from panel.api.pages import paged
from panel.jobs import services
from panel.jobs.log import line_payload
from panel.models import Job, JobKind, JobStatus
from panel.permissions import Action
from panel.requests import ApiRequest

MAX_LINES = 1000
router = Router(tags=["jobs"])


class JobStarted(Schema):
    job: int
    kind: str
    status_url: str
    release: int | None = None
    version: str | None = None


class JobOut(Schema):
    id: int
    kind: str
    status: str
    team: str = Field(alias="team.slug")
    target: str = Field(alias="target_label")
    actor: str = Field(alias="actor_label")
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class LogLine(Schema):
    seq: int
    text: str
    kind: str
    at: str | None = None


class JobDetail(JobOut):
    lines: list[LogLine]
    next_after: int


class CancelOutcome(Schema):
    job: int
    outcome: str


def started(start: Callable[[], Job]) -> Status[JobStarted]:
    job = start()
    return Status(
        202,
        JobStarted(
            job=job.pk,
            kind=job.kind,
            status_url=reverse("api:job", args=[job.pk]),
            release=job.params.get("release"),
            version=job.params.get("version"),
        ),
    )


@router.get("/jobs", response=list[JobOut], openapi_extra=needs(Action.VIEW))
@paged()
def job_list(
    request: ApiRequest,
    team: str | None = None,
    status: JobStatus | None = None,
    kind: JobKind | None = None,
) -> Any:
    jobs = in_teams(request, Job.objects.select_related("team"), team)
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs


@router.get("/jobs/{job_id}", response=JobDetail, url_name="job", openapi_extra=needs(Action.VIEW))
def job_detail(request: ApiRequest, job_id: int, after: int = QueryParam(-1, ge=-1)) -> Any:
    """The job and up to 1000 log lines after `after`; poll with `next_after` to follow it."""
    job = by_pk(request, Job.objects.select_related("team"), job_id, Action.VIEW)
    rows = list(job.log_lines.filter(seq__gt=after).order_by("seq")[:MAX_LINES])
    job.lines = [line_payload(row) for row in rows]  # type: ignore[attr-defined]
    job.next_after = rows[-1].seq if rows else after  # type: ignore[attr-defined]
    return job


@router.post(
    "/jobs/{job_id}/cancel", response=CancelOutcome, openapi_extra=needs(Action.CANCEL_JOB)
)
def job_cancel(request: ApiRequest, job_id: int) -> Any:
    """Cancel a queued job at once, or ask a running one to stop at its next safe point."""
    job = by_pk(request, Job.objects.select_related("team"), job_id, Action.CANCEL_JOB)
    return {"job": job.pk, "outcome": services.cancel(job, actor_of(request))}
