"""A run that started another job (a deploy, a backup…) goes on when that job ends."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from panel.jobs.runner import job_finished
from runbooks.state import resume_after


@receiver(job_finished, dispatch_uid="runbooks.child_finished")
def child_finished(sender: Any, job_id: int, **kwargs: Any) -> None:
    resume_after(job_id)
