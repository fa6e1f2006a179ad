"""A waiting run of a runbook goes on: queued again, its task sent once the transaction
commits (by name: the task lives above this layer)."""

from __future__ import annotations

from celery import current_app
from django.db import transaction

from panel.models import Job, JobKind, JobStatus

TASK = "runbooks.run"


def resume(job_id: int) -> bool:
    with transaction.atomic():
        if not Job.objects.filter(pk=job_id, status=JobStatus.WAITING).update(
            status=JobStatus.QUEUED
        ):
            return False
        transaction.on_commit(lambda: current_app.send_task(TASK, args=[job_id]))
    return True


def resume_after(child_id: int) -> list[int]:
    """The runs that waited for this job, going on now that it ended."""
    waiting = Job.objects.filter(kind=JobKind.RUNBOOK_RUN, status=JobStatus.WAITING,
                                 params__child=child_id)  # fmt: skip
    return [job.pk for job in waiting if resume(job.pk)]


def resume_stuck() -> list[int]:
    """Runs whose child ended while they were still pausing (the signal found none waiting)."""
    resumed = []
    for job in Job.objects.filter(kind=JobKind.RUNBOOK_RUN, status=JobStatus.WAITING,
                                  params__child__isnull=False):  # fmt: skip
        child = Job.objects.filter(pk=job.params["child"]).first()
        if (child is None or not child.is_active) and resume(job.pk):
            resumed.append(job.pk)
    return resumed


def waiting_step(job: Job) -> int | None:
    """The index of the step a person must confirm, if the run waits for one."""
    if job.kind != JobKind.RUNBOOK_RUN or job.status != JobStatus.WAITING:
        return None
    at = int(job.params.get("at", 0))
    steps = job.params.get("steps", [])
    waits_for_person = at < len(steps) and steps[at]["kind"] == "check"
    return at if waits_for_person and "child" not in job.params else None
