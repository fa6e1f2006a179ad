"""A runbook on the lab: its checklist item pauses the run until a person confirms it, its
command runs on a lab host, its HTTP step reaches the lab's webhook receiver with a secret
filled in (and is refused, nothing sent, while the runbook may not reach the panel's own
machine), and its reboot step waits for the reboot job it starts on the Debian host."""

from __future__ import annotations

import pytest

from deployments.operations.os_upkeep import reboot
from panel.audit import Actor
from panel.jobs.runner import run_job
from panel.models import Job, JobKind, JobStatus
from runbooks import services
from runbooks.models import Confirmation
from runbooks.run_services import run
from servers import services as server_services
from servers.operations.updates import check_updates
from tests.conftest import Crew
from tests.deployments.conftest import log_of
from tests.lab import debhost
from tests.lab import services as lab_services
from tests.lab.lab import Lab
from tests.servers.conftest import lab_server

pytestmark = [pytest.mark.lab, pytest.mark.django_db(transaction=True)]

SECRET = "hook-8d1e-secret-value"
HOOK = f"http://127.0.0.1:{lab_services.WEBHOOK_PORT}/hooks/runbook"
STEPS = f"""\
- check: Tell the team the drill starts
- run: echo "drill ran"
  on: [lab1]
- http: POST {HOOK}
  headers: {{Content-Type: application/json}}
  body: '{{"text": "drill done", "token": "${{HOOK_TOKEN}}"}}'
- reboot: deb1
  if_required: true
"""


def test_a_runbook_pauses_goes_on_when_confirmed_and_reaches_the_receiver(
    crew: Crew, lab: Lab
) -> None:
    debhost.start()
    assert lab.debian is not None
    lab_server(crew, lab.hosts[0])
    deb = lab_server(crew, lab.debian)
    admin = Actor.for_user(crew.admin)
    check = server_services.start_updates_check(admin, deb)
    assert run_job(check.pk, check_updates) == "succeeded"  # a reboot needs a check first
    lab_services.empty_inbox()
    book = services.save(admin, crew.team, None, name="drill", description="", steps=STEPS,
                         schedule="", allow_internal=False,
                         secrets={"HOOK_TOKEN": SECRET})  # fmt: skip

    job = services.start_run(admin, book)
    assert run_job(job.pk, run) == "waiting"
    services.confirm(Actor.for_user(crew.deployer), Job.objects.get(pk=job.pk), 0)
    assert run_job(job.pk, run) == "failed"  # loopback is the panel's own machine
    job.refresh_from_db()
    assert "Nothing was sent" in job.error and "the panel's own machine" in job.error
    assert "[lab1] drill ran" in log_of(job)
    assert lab_services.inbox("hook") == []

    book = services.save(admin, crew.team, book, name="drill", description="", steps=STEPS,
                         schedule="", allow_internal=True, secrets={})  # fmt: skip
    job = services.start_run(admin, book)
    run_job(job.pk, run)
    services.confirm(Actor.for_user(crew.deployer), Job.objects.get(pk=job.pk), 0)
    assert run_job(job.pk, run) == "waiting"  # for the reboot job it started
    child = Job.objects.get(kind=JobKind.SERVER_REBOOT)
    assert run_job(child.pk, reboot) == "succeeded", log_of(child)
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED  # its end let the run go on
    assert run_job(job.pk, run) == "succeeded", log_of(job)

    received = lab_services.inbox("hook")
    assert [x["path"] for x in received] == ["/hooks/runbook"]
    assert f'"token": "{SECRET}"' in received[0]["body"]
    log = log_of(Job.objects.get(pk=job.pk))
    assert "→ 200" in log and f"Job #{child.pk} (Reboot) succeeded." in log
    assert SECRET not in log
    assert Confirmation.objects.filter(job=job).get().user_label == crew.deployer.username
