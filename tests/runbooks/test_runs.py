"""A run of a runbook without servers: it pauses at a checklist item and holds no worker,
only a member of the step's role lets it go on (who and when recorded), a started job
pauses it until that job ends, and editing, running and confirming follow the roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from panel.audit import Actor
from panel.jobs import services as jobs
from panel.jobs.runner import run_job
from panel.models import AuditAction, AuditEvent, Job, JobKind, JobStatus
from runbooks import services
from runbooks.models import Confirmation, Runbook
from runbooks.run_services import run
from runbooks.state import resume_after, resume_stuck
from tests.conftest import Crew, new_server
from tests.deployments.conftest import log_of
from tests.deployments.test_upkeep_views import _checked

pytestmark = pytest.mark.django_db(transaction=True)


def runbook(crew: Crew, steps: str) -> Runbook:
    return services.save(
        Actor.for_user(crew.admin),
        crew.team,
        None,
        name="drill",
        description="",
        steps=steps,
        schedule="",
        allow_internal=False,
        secrets={"TOKEN": "tok-3c9e-secret"},
    )


def test_a_check_pauses_the_run_until_a_member_of_its_role_confirms(
    crew: Crew, client: Client
) -> None:
    job = services.start_run(
        Actor.for_user(crew.admin),
        runbook(crew, "- check: Tell the team\n  role: admin\n- wait: 1"),
    )
    assert run_job(job.pk, run) == "waiting"
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING and job.params["at"] == 0
    assert "Waiting for an admin or above to confirm: Tell the team" in log_of(job)
    resume_stuck()  # a person's step is not let go by the scheduler
    assert Job.objects.get(pk=job.pk).status == JobStatus.WAITING

    client.force_login(crew.deployer)
    page = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "Tell the team" in page and "runbook-confirm" in page
    url = reverse("runbook_confirm", args=[job.pk])
    assert client.post(url, {"step": "0"}).status_code == 403  # an admin's step
    client.force_login(crew.admin)
    client.post(url, {"step": "1"})  # not the step it waits on
    assert not Confirmation.objects.exists()
    client.post(url, {"step": "0"})
    assert Confirmation.objects.get().user == crew.admin
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert AuditEvent.objects.filter(action=AuditAction.RUNBOOK_CONFIRM).count() == 1
    client.post(url, {"step": "0"})  # twice is once
    assert Confirmation.objects.count() == 1

    assert run_job(job.pk, run) == "succeeded"
    log = log_of(Job.objects.get(pk=job.pk))
    assert "Confirmed by adam" in log
    assert "All 2 steps done." in log


def test_a_waiting_run_can_be_cancelled(crew: Crew) -> None:
    job = services.start_run(Actor.for_user(crew.admin), runbook(crew, "- check: Wait"))
    run_job(job.pk, run)
    assert jobs.cancel(Job.objects.get(pk=job.pk), Actor.for_user(crew.admin)) == "cancelled"
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_a_started_job_pauses_the_run_and_its_end_lets_it_go_on(crew: Crew) -> None:
    server = new_server(crew, name="web1")
    book = runbook(crew, "- reboot: web1\n  if_required: true")
    refused = services.start_run(Actor.for_user(crew.admin), book)
    assert run_job(refused.pk, run) == "failed"  # what the reboot's own start refuses
    assert "Check for updates first" in Job.objects.get(pk=refused.pk).error
    _checked(server)
    job = services.start_run(Actor.for_user(crew.admin), book)
    assert run_job(job.pk, run) == "waiting"
    child = Job.objects.get(kind=JobKind.SERVER_REBOOT)
    assert Job.objects.get(pk=job.pk).params["child"] == child.pk
    assert "Started job" in log_of(job)
    Job.objects.filter(pk=child.pk).update(status=JobStatus.FAILED, error="it did not come back")
    assert resume_after(child.pk) == [job.pk]
    assert run_job(job.pk, run) == "failed"
    assert "it did not come back" in Job.objects.get(pk=job.pk).error


def test_names_are_checked_when_saved_and_secrets_never_shown(crew: Crew, client: Client) -> None:
    client.force_login(crew.deployer)
    assert client.get(reverse("runbook_new")).status_code == 403
    client.force_login(crew.admin)
    page = client.post(reverse("runbook_new"), {
        "name": "drill", "steps": "- reboot: nowhere\n- http: GET https://x.example/${NOPE}",
        "secrets": "lower=case",
    }).content.decode()  # fmt: skip
    assert "No server named nowhere in this team." in page
    assert "Line 1: write NAME=value" in page
    assert not Runbook.objects.exists()
    page = client.post(reverse("runbook_new"), {
        "name": "drill", "steps": "- http: GET https://x.example/${NOPE}", "secrets": "",
    }).content.decode()  # fmt: skip
    assert "not set: NOPE" in page
    done = client.post(reverse("runbook_new"), {
        "name": "drill", "steps": "- http: GET https://x.example/${NOPE}",
        "secrets": "NOPE=s3cr3t-9f2a",
    })  # fmt: skip
    saved = Runbook.objects.get()
    assert done["Location"] == reverse("runbook_detail", args=[saved.pk])
    assert saved.secret_values() == {"NOPE": "s3cr3t-9f2a"}
    for url in (
        reverse("runbook_detail", args=[saved.pk]),
        reverse("runbook_edit", args=[saved.pk]),
    ):
        page = client.get(url).content.decode()
        assert "NOPE" in page and "s3cr3t-9f2a" not in page
    audit = AuditEvent.objects.get(action=AuditAction.RUNBOOK_CREATE)
    assert "s3cr3t" not in str(audit.details)
    client.force_login(crew.outsider)
    assert client.post(reverse("runbook_run", args=[saved.pk])).status_code == 404
    client.force_login(crew.deployer)
    assert client.post(reverse("runbook_run", args=[saved.pk])).status_code == 403
    client.force_login(crew.admin)
    client.post(reverse("runbook_run", args=[saved.pk]))
    assert Job.objects.get().kind == JobKind.RUNBOOK_RUN


def test_a_due_schedule_starts_one_run_per_tick(crew: Crew) -> None:
    book = runbook(crew, "- wait: 1")
    Runbook.objects.filter(pk=book.pk).update(
        schedule="* * * * *", created_at=timezone.now() - timedelta(minutes=5)
    )
    now = timezone.now()
    assert len(services.start_due(now)) == 1
    assert services.start_due(now) == []
