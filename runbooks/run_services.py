"""A runbook's run, as one job: its steps in order, each logged. A step that waits for a
person, or for a job it started (a deploy, a backup, an upgrade, a reboot), pauses the job:
it holds no worker while it waits, and goes on from that step when it is let go.

It lives with the services because its panel actions start other jobs through theirs."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from typing import Any

from celery import shared_task

from backups import services as backup_services
from backups.models import Repository
from deployments import services as deploy_services
from deployments import upkeep_services
from deployments.models import Accessory, App, Release, ReleaseStatus
from deployments.services import DeployRefused
from panel.audit import Actor
from panel.jobs.runner import JobContext, JobFailed, JobPaused, run_job
from panel.models import Job, JobStatus
from runbooks.models import Confirmation, Runbook
from runbooks.reach import refused
from runbooks.state import TASK
from runbooks.steps import SECRET, WHO, Step, from_dicts
from servers.models import Server
from servers.operations.exec import run_everywhere

HTTP_TIMEOUT = 30.0
SHOWN_ANSWER = 300  # characters of an HTTP answer the log shows


@shared_task(name=TASK, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def run_runbook(job_id: int) -> str | None:
    return run_job(job_id, run)


def run(ctx: JobContext) -> None:
    job = ctx.job
    runbook = Runbook.objects.filter(pk=job.target_id, team=job.team).first()
    if runbook is None:
        raise JobFailed("The runbook was removed; its run stops here.")
    steps = from_dicts(job.params["steps"])
    secrets = runbook.secret_values()
    for value in secrets.values():
        ctx.add_secret(value)
    start = int(job.params.get("at", 0))
    if start:
        ctx.log(f"Going on at step {start + 1} of {len(steps)}.")
    for index in range(start, len(steps)):
        ctx.check_cancelled()
        step = steps[index]
        ctx.log(f"== Step {index + 1} of {len(steps)}: {step.describe()}")
        waiting = _step(ctx, runbook, step, index, secrets)
        if waiting:
            raise JobPaused(waiting)
        _move_on(job, index + 1)
    ctx.log(f"All {len(steps)} steps done.")


def _move_on(job: Job, at: int) -> None:
    job.params = {**{k: v for k, v in job.params.items() if k != "child"}, "at": at}
    Job.objects.filter(pk=job.pk).update(params=job.params)


def _step(ctx: JobContext, runbook: Runbook, step: Step, index: int,
          secrets: dict[str, str]) -> str:  # fmt: skip
    """What the run waits for now ("" when the step is done)."""
    if step.kind == "check":
        return _check(ctx, step, index)
    if step.kind == "run":
        _run(ctx, step)
    elif step.kind == "http":
        _http(ctx, runbook, step, secrets)
    elif step.kind == "wait":
        deadline = time.monotonic() + step.seconds
        while time.monotonic() < deadline:
            ctx.check_cancelled()
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    else:
        return _action(ctx, runbook, step, index)
    return ""


def _check(ctx: JobContext, step: Step, index: int) -> str:
    confirmed = Confirmation.objects.filter(job=ctx.job, step=index).first()
    if confirmed is None:
        return f"Waiting for {WHO[step.role]} or above to confirm: {step.text}"
    ctx.log(f"Confirmed by {confirmed.user_label} at {confirmed.at:%Y-%m-%d %H:%M:%S} UTC.")
    return ""


def _run(ctx: JobContext, step: Step) -> None:
    servers = list(Server.objects.filter(team=ctx.job.team, name__in=step.servers)
                   .select_related("ssh_key").order_by("name"))  # fmt: skip
    missing = sorted(set(step.servers) - {s.name for s in servers})
    if missing:
        raise JobFailed(f"No server named {', '.join(missing)} in this team.")
    failures = asyncio.run(run_everywhere(ctx, servers, step.text))
    if failures:
        raise JobFailed(f"The command failed on {', '.join(sorted(failures))}.")


def _http(ctx: JobContext, runbook: Runbook, step: Step, secrets: dict[str, str]) -> None:
    missing = sorted(step.secrets() - set(secrets))
    if missing:
        raise JobFailed(f"The runbook has no secret named {', '.join(missing)}.")

    def filled(text: str) -> str:
        return SECRET.sub(lambda found: secrets[found.group(1)], text)

    url = filled(step.url)
    problem = refused(url, allow_internal=runbook.allow_internal)
    if problem:
        raise JobFailed(f"Nothing was sent: {problem}")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked: http or https)
        url, data=filled(step.body).encode() if step.body else None, method=step.method,
        headers={"User-Agent": "panel-runbook", **{k: filled(v) for k, v in step.headers.items()}},
    )  # fmt: skip
    try:
        with _opener().open(request, timeout=HTTP_TIMEOUT) as answer:
            status, text = answer.status, answer.read(SHOWN_ANSWER).decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read(SHOWN_ANSWER).decode(errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise JobFailed(f"{step.method} {step.url} did not answer: {error}") from error
    ctx.log(f"→ {status}" + (f": {text.strip()}" if text.strip() else ""))
    if not 200 <= status < 300:
        raise JobFailed(f"{step.method} {step.url} answered {status}.")


def _opener() -> urllib.request.OpenerDirector:
    """No redirects: a redirect could lead where the step may not go."""

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(Stay)


def _action(ctx: JobContext, runbook: Runbook, step: Step, index: int) -> str:
    child_id = ctx.job.params.get("child")
    if child_id is not None:
        child = Job.objects.get(pk=child_id)
        if child.status != JobStatus.SUCCEEDED:
            raise JobFailed(f"Job #{child.pk} ({child.get_kind_display()}) {child.status}: "
                            f"{child.error or 'see its log'}")  # fmt: skip
        ctx.log(f"Job #{child.pk} ({child.get_kind_display()}) succeeded.")
        return ""
    actor = Actor.of_job(ctx.job)
    try:
        child = _start(actor, ctx.job, step)
    except (DeployRefused, LookupError) as error:
        raise JobFailed(str(error)) from error
    ctx.job.params = {**ctx.job.params, "at": index, "child": child.pk}
    Job.objects.filter(pk=ctx.job.pk).update(params=ctx.job.params)
    return f"Started job #{child.pk} ({child.get_kind_display()}); going on when it ends."


def _start(actor: Actor, job: Job, step: Step) -> Job:
    team = job.team
    if step.kind == "deploy":
        app = _named(App.objects.filter(team=team), step.target, "app")
        version = step.option or _live_version(app)
        return deploy_services.start_deploy(actor, app, version=version)
    if step.kind == "reboot":
        server = _named(Server.objects.filter(team=team), step.target, "server")
        required = step.option == "if-required"
        return upkeep_services.start_reboot(actor, server, only_if_required=required)
    accessory = _named(Accessory.objects.filter(team=team), step.target, "accessory")
    repositories = Repository.objects.filter(team=team).order_by("name")
    if step.kind == "backup":
        repository = (_named(repositories, step.option, "backup repository") if step.option
                      else repositories.first())  # fmt: skip
        if repository is None:
            raise LookupError("The team has no backup repository to back up into.")
        return backup_services.start_backup(actor, accessory, repository)
    return backup_services.start_upgrade(actor, accessory, step.option, repositories.first())


def _named(rows: Any, name: str, what: str) -> Any:
    found = rows.filter(name=name).first()
    if found is None:
        raise LookupError(f"No {what} named {name} in this team.")
    return found


def _live_version(app: App) -> str:
    live = Release.objects.filter(app=app, status=ReleaseStatus.LIVE).order_by("-pk").first()
    if live is None:
        raise LookupError(f"{app.name} has no live release to deploy again; name a version.")
    return live.version
