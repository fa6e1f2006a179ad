from __future__ import annotations

from celery import shared_task

from backups.operations.backup import back_up
from panel.jobs.runner import run_job


@shared_task(name="backups.back_up", soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def back_up_accessory(job_id: int) -> str | None:
    return run_job(job_id, back_up)
