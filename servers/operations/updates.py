"""Check for updates as a job: apt's lists refreshed where the login may (root or sudo
without a password), then apt's simulated upgrade, recorded for the server page and the
dashboard. Nothing on the server changes."""

from __future__ import annotations

import asyncio

from django.utils import timezone

from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh
from servers.commands import apt
from servers.models import Server, ServerUpdates
from servers.targets import target_for
from servers.updates import Package, Updates, parse

PARALLEL_CHECKS = 20


def check_updates(ctx: JobContext) -> None:
    """The job's server, or (`servers` in its parameters) several side by side; each one's
    finding is recorded even when another's check fails."""
    ids = ctx.job.params.get("servers") or [int(ctx.job.target_id)]
    servers = Server.objects.select_related("ssh_key").filter(team=ctx.job.team, pk__in=ids)
    outcomes = asyncio.run(_check_all(list(servers.order_by("name")), ctx))
    failed = []
    for server, outcome in outcomes:
        if isinstance(outcome, ssh.SshError):
            ctx.log(f"[{server.name}] {outcome}", LogKind.ERROR)
            failed.append(server.name)
            continue
        record(server, outcome)
        for line in describe(outcome):
            ctx.log(f"[{server.name}] {line}")
        if not outcome.supported or outcome.refreshed == "failed":
            failed.append(server.name)
    if failed:
        raise JobFailed(f"The check did not complete on {', '.join(failed)} (see above).")


def read_updates(server: Server, ctx: JobContext) -> Updates:
    """Check one server (apt's own output into the job log as it comes) and record it."""
    try:
        found = asyncio.run(_check(server, ctx))
    except ssh.SshError as error:
        raise JobFailed(str(error)) from error
    record(server, found)
    return found


async def _check_all(
    servers: list[Server], ctx: JobContext
) -> list[tuple[Server, Updates | ssh.SshError]]:
    gate = asyncio.Semaphore(PARALLEL_CHECKS)

    async def one(server: Server) -> tuple[Server, Updates | ssh.SshError]:
        async with gate:
            try:
                return server, await _check(server, ctx)
            except ssh.SshError as error:
                return server, error

    return await asyncio.gather(*(one(server) for server in servers))


async def _check(server: Server, ctx: JobContext) -> Updates:
    ctx.log(f"[{server.name}] {apt.check()[0]} -c <check for updates>", LogKind.COMMAND)
    answer: list[str] = []
    async for stream, line in ssh.stream(
        target_for(server), apt.check(), timeout=apt.LOCK_WAIT + 300, terminal=False
    ):
        if stream == "out":
            answer.append(line)
        elif line.strip():
            ctx.log(f"[{server.name}] {line}", LogKind.OUTPUT)
        ctx.check_cancelled()
    return parse("\n".join(answer))


def record(server: Server, found: Updates) -> None:
    ServerUpdates.objects.update_or_create(
        server=server,
        defaults={
            "checked_at": timezone.now(),
            "report": found.as_json(),
            "pending": len(found.packages),
            "security": len(found.security),
            "reboot_required": found.reboot_required,
        },
    )


def describe(found: Updates) -> list[str]:
    """What a check found, in the words of the job log."""
    may = {
        "root": "root",
        "sudo": "sudo without a password",
        "none": "neither root nor sudo without a password: it can check, not upgrade",
    }
    if not found.supported:
        return [f"System: {found.os}: not supported (only Debian and Ubuntu are)."]
    lines = [f"System: {found.os}", f"The login is {may.get(found.privilege, found.privilege)}."]
    if found.refreshed == "no":
        lines.append("apt's lists were not refreshed (that needs root): they may be old.")
    elif found.refreshed == "failed":
        lines.append("apt could not refresh its lists (its output is above): they may be old.")
    lines.append(
        f"{len(found.packages)} upgradable, {len(found.security)} of them security updates."
        if found.packages else "Nothing to upgrade."
    )  # fmt: skip
    lines += [f"  {_line(package)}" for package in found.packages]
    if found.reboot_required:
        why = ", ".join(found.reboot_packages) or "a package"
        lines.append(f"A reboot is required (for {why}).")
    return lines


def _line(package: Package) -> str:
    flags = ["security"] if package.security else []
    flags += [f"can restart {package.risk}"] if package.risk else []
    where = ", ".join(package.origins)
    note = f" — {', '.join(flags)}" if flags else ""
    return f"{package.name} {package.current or '(new)'} → {package.candidate} ({where}){note}"
