"""Every write to runbooks, audited: saving one (its steps checked first, its secrets
encrypted and never shown again), starting a run, confirming a step a run waits on, and
the runs a schedule starts."""

from __future__ import annotations

import json
from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from panel import audit
from panel.audit import Actor
from panel.jobs import services as jobs
from panel.models import AuditAction, Job, JobKind, Team
from panel.schedules import claim_due
from panel.sensitive import Sensitive
from runbooks.models import Confirmation, Runbook
from runbooks.run_services import run_runbook
from runbooks.state import resume, resume_stuck, waiting_step
from runbooks.steps import as_dicts, from_dicts, parse


class RunbookRefused(Exception):
    """Said to the person as it is; nothing changed."""


def save(actor: Actor, team: Team, runbook: Runbook | None, *, name: str, description: str,
         steps: str, schedule: str, allow_internal: bool,
         secrets: dict[str, str]) -> Runbook:  # fmt: skip
    """Create or change a runbook. `secrets` are added or replaced ("" removes one)."""
    parse(steps)  # the form checked them; a caller that did not gets the same refusal
    with transaction.atomic():
        created = runbook is None
        fields = {"name": name, "description": description, "steps": steps,
                  "schedule": schedule, "allow_internal": allow_internal}  # fmt: skip
        before = audit.values_of(runbook, fields)
        runbook = runbook or Runbook(team=team)
        runbook.name, runbook.description, runbook.steps = name, description, steps
        runbook.schedule, runbook.allow_internal = schedule, allow_internal
        kept = {**runbook.secret_values(), **secrets}
        runbook.secrets = Sensitive(json.dumps({k: v for k, v in kept.items() if v}))
        runbook.save()
        audit.record(actor, AuditAction.RUNBOOK_CREATE if created else AuditAction.RUNBOOK_UPDATE,
                     team=team, target=runbook,
                     details={"schedule": schedule or "none", "allow_internal": allow_internal,
                              "secrets_set": sorted(secrets),
                              **audit.diff(before, fields, secrets={
                                  f"secret {key}": True for key in secrets})})  # fmt: skip
    return runbook


def delete(actor: Actor, runbook: Runbook) -> None:
    with transaction.atomic():
        audit.record(actor, AuditAction.RUNBOOK_DELETE, team=runbook.team, target=runbook)
        runbook.delete()


def start_run(actor: Actor, runbook: Runbook) -> Job:
    """A run of the steps as they are now (a later edit does not change it)."""
    steps = parse(runbook.steps)
    return jobs.enqueue(kind=JobKind.RUNBOOK_RUN, team=runbook.team, actor=actor,
                        task=run_runbook, target=runbook,
                        params={"steps": as_dicts(steps), "at": 0})  # fmt: skip


def confirm(actor: Actor, job: Job, step: int) -> None:
    """Record who let the run go on, and when; then it goes on."""
    if waiting_step(job) != step:
        raise RunbookRefused("This run does not wait for that step (any more).")
    with transaction.atomic():
        Confirmation.objects.create(job=job, step=step, user=actor.user, user_label=actor.label)
        audit.record(actor, AuditAction.RUNBOOK_CONFIRM, team=job.team, target=job,
                     details={"step": step + 1,
                              "text": from_dicts(job.params["steps"])[step].text})  # fmt: skip
        resume(job.pk)


def start_due(now: datetime) -> list[Job]:
    """A run of each runbook whose schedule is due (once per tick)."""
    due = claim_due(Runbook.objects.exclude(schedule="").select_related("team"), now)
    return [start_run(Actor.system(f"runbook schedule {runbook.name}"), runbook)
            for runbook in due]  # fmt: skip


@shared_task(name="runbooks.start_due")
def start_due_now() -> int:
    resume_stuck()
    return len(start_due(timezone.now()))
