"""Schedules as five cron fields (backups, cleanups): checked, the next run after a moment,
and said in words. Pure."""

from __future__ import annotations

from datetime import datetime

from cron_descriptor import get_description
from croniter import croniter
from django.core.exceptions import ValidationError


def validate_schedule(value: str) -> None:
    """Five cron fields (minute hour day month weekday), as croniter reads them."""
    if len(value.split()) != 5 or not croniter.is_valid(value):
        raise ValidationError(
            f"“{value[:40]}” is not a schedule: five cron fields, e.g. 0 3 * * * (at 03:00)."
        )


def next_run(schedule: str, after: datetime) -> datetime:
    found: datetime = croniter(schedule, after).get_next(datetime)
    return found


def in_words(schedule: str) -> str:
    return str(get_description(schedule))
