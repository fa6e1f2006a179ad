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


def check_updates(ctx: JobContext) -> None:
    server = Server.objects.select_related("ssh_key").get(pk=ctx.job.target_id, team=ctx.job.team)
    ctx.log(f"Checking {server.name} for updates: apt's lists refreshed, then a simulated "
            "upgrade (nothing is installed).")  # fmt: skip
    found = read_updates(server, ctx)
    for line in describe(found):
        ctx.log(line)
    if not found.supported:
        raise JobFailed(f"{found.os}: only Debian and Ubuntu are supported.")
    if found.refreshed == "failed":
        raise JobFailed("apt could not refresh its lists (its output is above); the packages "
                        "listed are from the lists it had.")  # fmt: skip


def read_updates(server: Server, ctx: JobContext) -> Updates:
    """Run the check (apt's own output into the job log as it comes) and record what it
    found on the server."""
    ctx.log(f"[{server.name}] {apt.check()[0]} -c <check for updates>", LogKind.COMMAND)
    answer: list[str] = []
    try:
        asyncio.run(_collect(target_for(server), ctx, server.name, answer))
    except ssh.SshError as error:
        raise JobFailed(str(error)) from error
    found = parse("\n".join(answer))
    record(server, found)
    return found


async def _collect(target: ssh.Target, ctx: JobContext, name: str, answer: list[str]) -> None:
    async for stream, line in ssh.stream(
        target, apt.check(), timeout=apt.LOCK_WAIT + 300, terminal=False
    ):
        if stream == "out":
            answer.append(line)
        elif line.strip():
            ctx.log(f"[{name}] {line}", LogKind.OUTPUT)
        ctx.check_cancelled()


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
    may = {
        "root": "root",
        "sudo": "sudo without a password",
        "none": "neither root nor sudo without a password: it can check, not upgrade",
    }
    lines = [f"System: {found.os}", f"The login is {may.get(found.privilege, found.privilege)}."]
    if found.refreshed == "no":
        lines.append("apt's lists were not refreshed (that needs root): they may be old.")
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
