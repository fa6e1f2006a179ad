from __future__ import annotations

from celery import shared_task

from backups.operations.backup import back_up
from backups.operations.files import restore_files
from backups.operations.panel_backup import back_up_panel
from backups.operations.promote import promote
from backups.operations.restore import remove_scratch, restore_to_scratch
from backups.operations.upgrade import remove_kept, revert, upgrade
from backups.operations.verify import check_repository, refresh_snapshots, verify
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


@shared_task(name="backups.promote", soft_time_limit=12 * 3600, time_limit=12 * 3600 + 60)
def promote_scratch_copy(job_id: int) -> str | None:
    return run_job(job_id, promote)


@shared_task(name="backups.verify", soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def verify_restore(job_id: int) -> str | None:
    return run_job(job_id, verify)


@shared_task(name="backups.check", soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def check_backup_repository(job_id: int) -> str | None:
    return run_job(job_id, check_repository)


@shared_task(name="backups.upgrade", soft_time_limit=12 * 3600, time_limit=12 * 3600 + 60)
def upgrade_accessory(job_id: int) -> str | None:
    return run_job(job_id, upgrade)


@shared_task(name="backups.upgrade_revert", soft_time_limit=12 * 3600, time_limit=12 * 3600 + 60)
def revert_upgrade(job_id: int) -> str | None:
    return run_job(job_id, revert)


@shared_task(name="backups.remove_kept", soft_time_limit=600, time_limit=660)
def remove_kept_data(job_id: int) -> str | None:
    return run_job(job_id, remove_kept)


@shared_task(name="backups.restore_files", soft_time_limit=12 * 3600, time_limit=12 * 3600 + 60)
def restore_volumes(job_id: int) -> str | None:
    return run_job(job_id, restore_files)


@shared_task(name="backups.list", soft_time_limit=900, time_limit=960)
def list_repository(job_id: int) -> str | None:
    return run_job(job_id, refresh_snapshots)


@shared_task(name="backups.back_up_panel", soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def back_up_panel_database(job_id: int) -> str | None:
    return run_job(job_id, back_up_panel)
