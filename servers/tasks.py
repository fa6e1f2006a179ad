from __future__ import annotations

from celery import shared_task

from panel.jobs.runner import run_job
from servers.operations.access import sync_access
from servers.operations.bootstrap import bootstrap
from servers.operations.check import check
from servers.operations.exec import exec_on_servers as exec_operation
from servers.operations.firewall import apply_firewall
from servers.operations.hardening import harden_ssh
from servers.operations.updates import check_updates


@shared_task(name="servers.check", soft_time_limit=120, time_limit=150)
def check_server(job_id: int) -> str | None:
    return run_job(job_id, check)


@shared_task(name="servers.bootstrap", soft_time_limit=1800, time_limit=1860)
def bootstrap_server(job_id: int) -> str | None:
    return run_job(job_id, bootstrap)


@shared_task(name="servers.exec", soft_time_limit=3600, time_limit=3660)
def exec_on_servers(job_id: int) -> str | None:
    return run_job(job_id, exec_operation)


@shared_task(name="servers.updates", soft_time_limit=1200, time_limit=1260)
def check_server_updates(job_id: int) -> str | None:
    return run_job(job_id, check_updates)


@shared_task(name="servers.access", soft_time_limit=600, time_limit=660)
def sync_server_access(job_id: int) -> str | None:
    return run_job(job_id, sync_access)


@shared_task(name="servers.harden", soft_time_limit=300, time_limit=330)
def harden_server_ssh(job_id: int) -> str | None:
    return run_job(job_id, harden_ssh)


@shared_task(name="servers.firewall", soft_time_limit=600, time_limit=660)
def apply_server_firewall(job_id: int) -> str | None:
    return run_job(job_id, apply_firewall)
