"""The security report's SSH fix as a job: passwords off, then sshd's own settings read
back to show they took effect."""

from __future__ import annotations

import asyncio

from panel.jobs.runner import JobContext, JobFailed
from servers import ssh
from servers.commands import security
from servers.execute import StepFailed, StepRunner
from servers.models import Server
from servers.os_plans import SSHD, plan_ssh_hardening
from servers.plans import Host
from servers.security import parse
from servers.targets import target_for


def harden_ssh(ctx: JobContext) -> None:
    server = Server.objects.select_related("ssh_key").get(pk=ctx.job.target_id, team=ctx.job.team)
    target = target_for(server)
    try:
        privilege = parse(
            asyncio.run(ssh.run(target, security.report(), timeout=60)).stdout
        ).privilege
    except ssh.SshError as error:
        raise JobFailed(str(error)) from error
    if privilege == "none":
        raise JobFailed(
            f"{server.user} on {server.name} is neither root nor allowed sudo without a "
            "password; change sshd's settings on the server yourself."
        )
    runner = StepRunner({server.pk: target}, ctx.log, check_cancelled=ctx.check_cancelled)
    try:
        for phase in plan_ssh_hardening(Host(server.pk, server.name), privilege).phases:
            asyncio.run(runner.phase(phase))
    except (StepFailed, ssh.SshError) as error:
        raise JobFailed(f"sshd's settings were not changed: {error}") from error
    effective = {
        line.split()[0].lower(): line.split()[-1] for line in runner.recorded[SSHD].splitlines()
        if line.strip()
    }  # fmt: skip
    if effective.get("passwordauthentication") != "no":
        raise JobFailed("sshd still accepts passwords: its main configuration does not read "
                        f"{security.HARDENING_FILE} (an Include line is missing).")  # fmt: skip
    ctx.log(f"sshd on {server.name} now accepts keys only; root logs in with a key at most.")
