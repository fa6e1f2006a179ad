"""Small template filters the pages share."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from panel import units
from panel.models import Job

register = template.Library()

# The page of each kind of job target.
TARGET_PAGES = {
    "deployments.app": "app_detail",
    "servers.server": "server_detail",
    "deployments.accessory": "accessory_detail",
    "runbooks.runbook": "runbook_detail",
}


@register.filter
def ago(moment: datetime | None) -> str:
    """`just now` for the last minute, else `5 minutes ago`."""
    if moment is None:
        return "never"
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


register.filter("gib", units.gib)


@register.filter
def readable(value: object) -> str:
    """An audit detail as a person reads it: yes/no, lists joined, nested pairs, — for none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(readable(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {readable(item)}" for key, item in value.items()) or "—"
    return str(value)


@register.filter
def change(value: object) -> str:
    """One field of an update event: `before → after`, or a secret's "changed"/"unchanged"."""
    if isinstance(value, dict) and value.keys() == {"from", "to"}:
        return f"{readable(value['from'])} → {readable(value['to'])}"
    return readable(value)


@register.filter
def target_url(job: Job) -> str:
    """The page of what the job worked on, or "" when it has none."""
    page = TARGET_PAGES.get(job.target_type)
    if page is None or not job.target_id:
        return ""
    return reverse(page, args=[job.target_id])
