"""Schedules as five cron fields (backups, cleanups, upgrade windows): checked, the next run
after a moment, said in words; and the rows whose tick is due, each claimed once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol, TypeVar

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


class Scheduled(Protocol):
    pk: Any
    schedule: str
    created_at: datetime
    last_started_at: datetime | None


S = TypeVar("S", bound=Scheduled)


def claim_due(rows: Iterable[S], now: datetime) -> Iterator[S]:
    """The rows whose schedule is due at `now`, each taken for this tick by one caller
    however many schedulers look at once (its `last_started_at` moves to `now`)."""
    for row in rows:
        if next_run(row.schedule, row.last_started_at or row.created_at) > now:
            continue
        mine = type(row)._default_manager.filter(pk=row.pk, last_started_at=row.last_started_at)  # type: ignore[attr-defined]
        if mine.update(last_started_at=now):
            yield row


def give_back(row: Scheduled) -> None:
    """A claimed tick that could not start: the next tick tries again."""
    type(row)._default_manager.filter(pk=row.pk).update(last_started_at=row.last_started_at)  # type: ignore[attr-defined]
