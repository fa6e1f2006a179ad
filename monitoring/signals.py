"""When a job ends: a deploy's outcome becomes its app's alert (opened or resolved) and, for
the channels that follow deploys, a message; sent at once rather than at the next round."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from monitoring.operations.evaluate import DEPLOYS, deploy_finished
from monitoring.operations.notify import deliver_due
from panel.jobs.runner import job_finished
from panel.models import Job


@receiver(job_finished)
def alert_on_deploys(sender: Any, job_id: int, **kwargs: Any) -> None:
    job = Job.objects.filter(pk=job_id, kind__in=DEPLOYS).first()
    if job is not None:
        deploy_finished(job, timezone.now())
        deliver_due()
