"""Named locks held by jobs, with a fencing token that grows on every acquire.

A lock is free when nobody holds it or its holder job is no longer queued or running, so a
lock never outlives its job even if the worker died before releasing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from panel.models import Job, Lock
from panel.models.jobs import ACTIVE_STATUSES


@dataclass(frozen=True)
class Held:
    name: str
    fence: int


def acquire(name: str, job_id: int) -> Held | None:
    """Take the lock for the job, or return None when another active job holds it."""
    Lock.objects.get_or_create(name=name)
    with transaction.atomic():
        lock = Lock.objects.select_for_update().get(name=name)
        if lock.holder_id == job_id:
            return Held(name=name, fence=lock.fence)
        held_by_active = (
            lock.holder_id is not None
            and Job.objects.filter(pk=lock.holder_id, status__in=ACTIVE_STATUSES).exists()
        )
        if held_by_active:
            return None
        lock.fence += 1
        lock.holder_id = job_id
        lock.acquired_at = timezone.now()
        lock.save(update_fields=["fence", "holder", "acquired_at"])
        return Held(name=name, fence=lock.fence)


def holder_of(name: str) -> Job | None:
    lock = (
        Lock.objects.filter(name=name, holder__status__in=ACTIVE_STATUSES)
        .select_related("holder")
        .first()
    )
    return lock.holder if lock else None


def is_current(held: Held) -> bool:
    """True while this fence still owns the lock; check before a step that must not overlap."""
    return Lock.objects.filter(name=held.name, fence=held.fence, holder__isnull=False).exists()


def release_all(job_id: int) -> int:
    return Lock.objects.filter(holder_id=job_id).update(holder=None)


def force_release(name: str) -> int:
    return Lock.objects.filter(name=name).update(holder=None)
