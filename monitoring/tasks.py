from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from monitoring import state
from monitoring.operations.collect import collect_round


@shared_task(name="monitoring.collect", soft_time_limit=120, time_limit=150, expires=30)
def collect() -> int:
    """One round over the servers that are due; the number that answered."""
    return collect_round().answered


@shared_task(name="monitoring.roll_up", soft_time_limit=600, time_limit=660, expires=300)
def roll_up() -> int:
    now = timezone.now()
    made = state.roll_up(now)
    state.prune(now)
    return made
