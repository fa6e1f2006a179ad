from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from monitoring import state
from monitoring.operations.collect import collect_round
from monitoring.operations.evaluate import evaluate_backups, evaluate_host_keys
from monitoring.operations.notify import deliver_due
from monitoring.operations.uptime import check_all


@shared_task(name="monitoring.collect", soft_time_limit=120, time_limit=150, expires=30)
def collect() -> int:
    """One round over the servers that are due; the number that answered."""
    return collect_round().answered


@shared_task(name="monitoring.roll_up", soft_time_limit=600, time_limit=660, expires=300)
def roll_up() -> int:
    """Rollups made, old samples pruned, the backups' and host keys' alerts checked."""
    now = timezone.now()
    made = state.roll_up(now)
    state.prune(now)
    evaluate_backups(now)
    evaluate_host_keys(now)
    return made


@shared_task(name="monitoring.deliver", soft_time_limit=120, time_limit=150, expires=30)
def deliver() -> int:
    """The outbox's due notifications (retries included) sent."""
    return deliver_due()


@shared_task(name="monitoring.uptime", soft_time_limit=50, time_limit=55, expires=50)
def uptime() -> int:
    """Every uptime check asked once; how many were up."""
    return check_all()
