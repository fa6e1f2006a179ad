"""OS upgrades and reboots of one server as jobs.

Upgrade: exactly the versions of the check the person previewed (all, or security only),
apt's output live in the job log, then what changed, then a fresh check (which also says
whether a reboot is required), then a reboot if asked for.

Reboot: one server of a team at a time (a lock, waited for); the reboot, the wait for SSH
to come back with a new boot id, then each thing the panel runs there must run again (the
proxy, the accessories, the apps' live containers by their health checks); the job names
those that did not."""

from __future__ import annotations

import asyncio
import time

from deployments.reboot_plans import BACK, plan_reboot
from deployments.spec import host_of
from monitoring.models import Alert
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh
from servers.execute import StepFailed, StepRunner
from servers.models import Server, ServerUpdates
from servers.operations.updates import describe, read_updates
from servers.os_plans import INSTALLED, plan_upgrade
from servers.plans import Plan, WaitHealthy
from servers.targets import target_for
from servers.updates import Updates, changes, from_json

REBOOT_LOCK_WAIT = 1800.0  # seconds a reboot waits for another server's to end
LOCK_POLL = 5.0


def upgrade(ctx: JobContext) -> None:
    server = _server(ctx)
    window = bool(ctx.job.params.get("window"))
    found = (
        _check_again(server, ctx) if window else _previewed(server, ctx.job.params["checked_at"])
    )
    if not found.can_upgrade:
        raise JobFailed(f"{server.name} cannot be upgraded by the panel (see the check above).")
    scope, reboot = ctx.job.params["scope"], ctx.job.params.get("reboot", "no")
    plan = plan_upgrade(host_of(server), found, scope)
    if not plan.phases:
        ctx.log("Nothing to upgrade.")
        return
    runner = StepRunner(
        {server.pk: target_for(server)}, ctx.log, check_cancelled=ctx.check_cancelled
    )
    try:
        for phase in plan.phases:
            asyncio.run(runner.phase(phase))
    except (StepFailed, ssh.SshError) as error:
        _check_again(server, ctx)
        raise JobFailed(f"The upgrade stopped: {error}") from error
    moved = changes(found, runner.recorded.get(INSTALLED, ""))
    ctx.log("Changed:" if moved else "No package changed.")
    for name, old, new in moved:
        ctx.log(f"  {name} {old} → {new}")
    after = _check_again(server, ctx)
    if reboot == "always" or (reboot == "if-required" and after.reboot_required):
        if window and _deferred(server, ctx):
            return
        _reboot(ctx, server, after.privilege)
    elif after.reboot_required:
        ctx.log("A reboot is required; this upgrade was asked not to reboot.", LogKind.INFO)


def reboot(ctx: JobContext) -> None:
    server = _server(ctx)
    found = _previewed(server)
    if ctx.job.params.get("only_if_required") and not found.reboot_required:
        ctx.log(f"{server.name} does not need a reboot (as of its last check); nothing done.")
        return
    _reboot(ctx, server, found.privilege)


def _reboot(ctx: JobContext, server: Server, privilege: str) -> None:
    _take_reboot_lock(ctx, server)
    plan = plan_reboot(server, privilege)
    runner = StepRunner(
        {server.pk: target_for(server)}, ctx.log, check_cancelled=ctx.check_cancelled
    )
    try:
        asyncio.run(runner.phase(plan.phases[0]))
    except (StepFailed, ssh.SshError) as error:
        raise JobFailed(f"The reboot failed: {error}") from error
    not_back = _not_back(runner, plan, ctx)
    _check_again(server, ctx)
    if not_back:
        raise JobFailed(f"{server.name} is back, but these are not running: {', '.join(not_back)}.")
    ctx.log(f"{server.name} is back and everything the panel runs there is running.")


def _not_back(runner: StepRunner, plan: Plan, ctx: JobContext) -> list[str]:
    """Each check of the return, all of them (side by side), the failures named."""
    phase = plan.phase(BACK)
    if phase is None:
        return []
    ctx.log(f"== {phase.title}", LogKind.INFO)
    checks = [step for step in phase.steps if isinstance(step, WaitHealthy)]

    async def each() -> list[BaseException | None]:
        return await asyncio.gather(*(runner.step(c) for c in checks), return_exceptions=True)

    failed = []
    for check, outcome in zip(checks, asyncio.run(each()), strict=True):
        if isinstance(outcome, BaseException):
            ctx.log(str(outcome), LogKind.ERROR)
            failed.append(check.title or check.container)
    return failed


def _deferred(server: Server, ctx: JobContext) -> bool:
    """A window's reboot waits while alerts are open on the server: someone may be looking
    into what they say, and a reboot would hide it."""
    open_alerts = Alert.objects.filter(server=server, resolved_at=None)
    titles = list(open_alerts.values_list("title", flat=True))
    if titles:
        ctx.log(f"The reboot waits for the next window: {len(titles)} alert(s) open on "
                f"{server.name}: {'; '.join(titles)}.", LogKind.INFO)  # fmt: skip
    return bool(titles)


def _take_reboot_lock(ctx: JobContext, server: Server) -> None:
    """One server of a team reboots at a time, so a cluster never loses two at once."""
    name, waited_since = f"reboot:{server.team_id}", time.monotonic()
    said = False
    while locks.acquire(name, ctx.job.pk) is None:
        holder = locks.holder_of(name)
        if not said:
            ctx.log(f"Waiting: another server is rebooting (job #{holder.pk if holder else '?'}).")
            said = True
        if time.monotonic() - waited_since > REBOOT_LOCK_WAIT:
            raise JobFailed("Another server's reboot did not end within 30 minutes.")
        ctx.check_cancelled()
        time.sleep(LOCK_POLL)


def _check_again(server: Server, ctx: JobContext) -> Updates:
    ctx.log("== Checking again", LogKind.INFO)
    found = read_updates(server, ctx)
    for line in describe(found):
        ctx.log(line)
    return found


def _previewed(server: Server, checked_at: str = "") -> Updates:
    """The check the person saw (`checked_at`: the one they saw, when given)."""
    stored = ServerUpdates.objects.filter(server=server).first()
    if stored is None:
        raise JobFailed("Check for updates first.")
    if checked_at and stored.checked_at.isoformat() != checked_at:
        raise JobFailed("A newer check for updates ran since the preview; look at it again.")
    return from_json(stored.report)


def _server(ctx: JobContext) -> Server:
    return Server.objects.select_related("ssh_key", "team").get(pk=ctx.job.target_id,
                                                                team=ctx.job.team)  # fmt: skip
