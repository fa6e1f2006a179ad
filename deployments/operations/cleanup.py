"""Docker cleanup of one server as a job: Docker's account of the disk read again, what the
panel still needs there worked out again, and of the items the person previewed those that
are still candidates removed (any that became needed since are left, and said so); then the
space freed, from Docker's account before and after."""

from __future__ import annotations

import asyncio
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from deployments.keep import keep_on
from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh
from servers.cleanup import Item, candidates, plan, usage
from servers.execute import StepFailed, StepRunner
from servers.models import Server
from servers.operations.docker_disk import read_df
from servers.plans import Host
from servers.targets import target_for


def cleanup(ctx: JobContext) -> None:
    params = ctx.job.params
    server = Server.objects.select_related("ssh_key").get(pk=ctx.job.target_id, team=ctx.job.team)
    target = target_for(server)
    before = _df(target)
    found = found_now(server, before, params)
    if params.get("every"):  # a schedule's: what is a candidate now
        params = {**params, "items": [item.key for item in found]}
    chosen = [item for item in found if item.key in set(params["items"])]
    for key in sorted(set(params["items"]) - {item.key for item in found}):
        ctx.log(f"Left alone: {key} is no longer a candidate (needed or gone since the preview).")
    if not chosen:
        ctx.log("Nothing to remove.")
        return
    for item in chosen:
        ctx.log(f"Removing {item.kind} {item.label} ({filesizeformat(item.size)}): {item.why}")
    steps = plan(Host(server.pk, server.name), chosen)
    runner = StepRunner({server.pk: target}, ctx.log, check_cancelled=ctx.check_cancelled)
    try:
        for phase in steps.phases:
            asyncio.run(runner.phase(phase))
    except (StepFailed, ssh.SshError) as error:
        ctx.log(_freed(before, _df(target)), LogKind.INFO)
        raise JobFailed(f"Cleanup stopped: {error}") from error
    ctx.log(_freed(before, _df(target)))


def found_now(server: Server, df: dict[str, Any], params: dict[str, Any]) -> list[Item]:
    """The candidates with the options the person chose (the preview's and the job's)."""
    return candidates(df, keep_on(server), cache_days=int(params["cache_days"]),
                      volumes=frozenset(params.get("volumes", [])), now=timezone.now())  # fmt: skip


def _df(target: ssh.Target) -> dict[str, Any]:
    try:
        return asyncio.run(read_df(target))
    except ssh.SshError as error:
        raise JobFailed(str(error)) from error


def _freed(before: dict[str, Any], after: dict[str, Any]) -> str:
    spent = sum(u.size for u in usage(before)) - sum(u.size for u in usage(after))
    return f"Freed {filesizeformat(max(0, spent))} (Docker's own account, before and after)."
