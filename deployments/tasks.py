from __future__ import annotations

from celery import shared_task

from deployments.operations import accessories, accessory_links, lifecycle
from deployments.operations.app_exec import app_exec
from deployments.operations.cleanup import cleanup
from deployments.operations.deploy import deploy
from deployments.operations.link_rotation import rotate
from deployments.operations.os_upkeep import reboot, upgrade
from deployments.operations.remove import remove
from panel.jobs.runner import run_job


@shared_task(name="deployments.deploy", soft_time_limit=1800, time_limit=1860)
def deploy_app(job_id: int) -> str | None:
    return run_job(job_id, deploy)


@shared_task(name="deployments.stop", soft_time_limit=600, time_limit=660)
def stop_app(job_id: int) -> str | None:
    return run_job(job_id, lifecycle.stop)


@shared_task(name="deployments.start", soft_time_limit=600, time_limit=660)
def start_app(job_id: int) -> str | None:
    return run_job(job_id, lifecycle.start)


@shared_task(name="deployments.remove", soft_time_limit=600, time_limit=660)
def remove_app(job_id: int) -> str | None:
    return run_job(job_id, remove)


@shared_task(name="deployments.exec", soft_time_limit=3600, time_limit=3660)
def exec_in_app(job_id: int) -> str | None:
    return run_job(job_id, app_exec)


@shared_task(name="deployments.accessory_boot", soft_time_limit=1800, time_limit=1860)
def boot_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessories.boot)


@shared_task(name="deployments.accessory_reboot", soft_time_limit=1800, time_limit=1860)
def reboot_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessories.reboot)


@shared_task(name="deployments.accessory_remove", soft_time_limit=600, time_limit=660)
def remove_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessories.remove)


@shared_task(name="deployments.accessory_start", soft_time_limit=300, time_limit=360)
def start_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessories.start)


@shared_task(name="deployments.accessory_stop", soft_time_limit=300, time_limit=360)
def stop_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessories.stop)


@shared_task(name="deployments.accessory_restart", soft_time_limit=300, time_limit=360)
def restart_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessories.restart)


@shared_task(name="deployments.accessory_exec", soft_time_limit=1800, time_limit=1860)
def exec_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessories.exec_in)


@shared_task(name="deployments.accessory_link", soft_time_limit=600, time_limit=660)
def link_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessory_links.link)


@shared_task(name="deployments.accessory_unlink", soft_time_limit=600, time_limit=660)
def unlink_accessory(job_id: int) -> str | None:
    return run_job(job_id, accessory_links.unlink)


@shared_task(name="deployments.accessory_rotate", soft_time_limit=1800, time_limit=1860)
def rotate_link(job_id: int) -> str | None:
    return run_job(job_id, rotate)


@shared_task(name="deployments.cleanup", soft_time_limit=1800, time_limit=1860)
def clean_up_server(job_id: int) -> str | None:
    return run_job(job_id, cleanup)


@shared_task(name="deployments.os_upgrade", soft_time_limit=7200, time_limit=7260)
def upgrade_server(job_id: int) -> str | None:
    return run_job(job_id, upgrade)


@shared_task(name="deployments.reboot", soft_time_limit=3600, time_limit=3660)
def reboot_server(job_id: int) -> str | None:
    return run_job(job_id, reboot)
