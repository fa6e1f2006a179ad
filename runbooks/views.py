"""Runbooks: the team's list, one runbook's steps in words with its runs, the editor (a
starter to begin from), starting a run, and confirming the step a run waits on."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panel.models import Job, JobKind
from panel.permissions import Action, get_for, require
from panel.requests import actor_of, team_of
from panel.schedules import in_words
from runbooks import services
from runbooks.forms import RunbookForm
from runbooks.models import Runbook
from runbooks.starters import STARTERS
from runbooks.state import waiting_step
from runbooks.steps import parse

CONFIRMS = {"deployer": Action.DEPLOY, "admin": Action.MANAGE_SERVERS}


@login_required
def runbook_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    runbooks = Runbook.objects.filter(team=team)
    return render(request, "runbooks/runbook_list.html", {
        "runbooks": [(x, in_words(x.schedule) if x.schedule else "") for x in runbooks],
        "starters": {key: title for key, (title, _) in STARTERS.items()},
    })  # fmt: skip


@login_required
def runbook_detail(request: HttpRequest, runbook_id: UUID) -> HttpResponse:
    runbook = get_for(request.user, Runbook.objects.select_related("team"), runbook_id)
    runs = Job.objects.filter(kind=JobKind.RUNBOOK_RUN, target_id=str(runbook.pk))
    return render(request, "runbooks/runbook_detail.html", {
        "runbook": runbook, "steps": parse(runbook.steps), "runs": runs.order_by("-pk")[:20],
        "secret_names": sorted(runbook.secret_values()),
        "schedule_words": in_words(runbook.schedule) if runbook.schedule else "",
    })  # fmt: skip


@login_required
def runbook_form(request: HttpRequest, runbook_id: UUID | None = None) -> HttpResponse:
    team = team_of(request)
    runbook = None
    if runbook_id is not None:
        runbook = get_for(request.user, Runbook.objects.select_related("team"), runbook_id,
                          Action.MANAGE_SERVERS)  # fmt: skip
        team = runbook.team
    require(request.user, team, Action.MANAGE_SERVERS)
    kept = set(runbook.secret_values()) if runbook else set()
    initial = _initial(request, runbook)
    form = RunbookForm(request.POST or None, team=team, kept=kept, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = services.save(
            actor_of(request), team, runbook, name=data["name"], description=data["description"],
            steps=request.POST["steps"], schedule=data["schedule"],
            allow_internal=data["allow_internal"], secrets=data["secrets"],
        )  # fmt: skip
        messages.success(request, f"Runbook {saved.name} saved.")
        return redirect("runbook_detail", runbook_id=saved.pk)
    return render(request, "runbooks/runbook_form.html",
                  {"form": form, "runbook": runbook, "kept": sorted(kept)})  # fmt: skip


def _initial(request: HttpRequest, runbook: Runbook | None) -> dict[str, Any]:
    if runbook is not None:
        return {"name": runbook.name, "description": runbook.description, "steps": runbook.steps,
                "schedule": runbook.schedule, "allow_internal": runbook.allow_internal}  # fmt: skip
    title, steps = STARTERS.get(request.GET.get("starter", ""), ("", ""))
    return {"description": title, "steps": steps}


@login_required
@require_POST
def runbook_run(request: HttpRequest, runbook_id: UUID) -> HttpResponse:
    runbook = get_for(request.user, Runbook.objects.select_related("team"), runbook_id,
                      Action.MANAGE_SERVERS)  # fmt: skip
    job = services.start_run(actor_of(request), runbook)
    return redirect("job_detail", job_id=job.pk)


@login_required
@require_POST
def runbook_delete(request: HttpRequest, runbook_id: UUID) -> HttpResponse:
    runbook = get_for(request.user, Runbook.objects.select_related("team"), runbook_id,
                      Action.MANAGE_SERVERS)  # fmt: skip
    services.delete(actor_of(request), runbook)
    messages.success(request, f"Runbook {runbook.name} removed.")
    return redirect("runbook_list")


@login_required
@require_POST
def runbook_confirm(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_for(request.user, Job.objects.select_related("team"), job_id)
    step = waiting_step(job)
    if step is None or request.POST.get("step") != str(step):
        messages.error(request, "This run does not wait for that step (any more).")
        return redirect("job_detail", job_id=job.pk)
    require(request.user, job.team, CONFIRMS[job.params["steps"][step]["role"]])
    try:
        services.confirm(actor_of(request), job, step)
    except services.RunbookRefused as refused:
        messages.error(request, str(refused))
    return redirect("job_detail", job_id=job.pk)
