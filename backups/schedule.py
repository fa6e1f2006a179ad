"""Backup policies' schedules: which are due at a moment, and their cron in words. Pure but for
reading the policies; the clock is given, so tests drive it."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from backups.models import PanelPolicy, Policy
from panel.schedules import next_run


def due(now: datetime) -> list[Policy]:
    """Policies whose next backup since they last started (or were made) is not after `now`."""
    return [
        policy
        for policy in _policies()
        if next_run(policy.schedule, policy.last_started_at or policy.created_at) <= now
    ]


def verification_due(now: datetime) -> list[Policy]:
    """Policies whose next verification since the last (or since they were made) is due."""
    return [
        policy
        for policy in _policies().exclude(verify_schedule="")
        if next_run(policy.verify_schedule, policy.last_verify_started_at or policy.created_at)
        <= now
    ]


def _policies() -> QuerySet[Policy]:
    policies = Policy.objects.select_related("accessory__team", "accessory__server")
    return policies.prefetch_related("repositories")


def panel_due(now: datetime) -> PanelPolicy | None:
    policy = PanelPolicy.objects.select_related("repository__team").first()
    if policy is None:
        return None
    last = policy.last_started_at or policy.created_at
    return policy if next_run(policy.schedule, last) <= now else None
