from __future__ import annotations

from celery import shared_task

from backups.operations.backup import back_up
from backups.operations.restore import remove_scratch, restore_to_scratch
from panel.jobs.runner import run_job


@shared_task(name="backups.back_up", soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def back_up_accessory(job_id: int) -> str | None:
    return run_job(job_id, back_up)


@shared_task(name="backups.restore_to_scratch", soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def restore_scratch_copy(job_id: int) -> str | None:
    return run_job(job_id, restore_to_scratch)


@shared_task(name="backups.remove_scratch", soft_time_limit=600, time_limit=660)
def remove_scratch_copy(job_id: int) -> str | None:
    return run_job(job_id, remove_scratch)
