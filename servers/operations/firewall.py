"""The firewall as a job: the rules the person previewed, put in place by the plan, then the
panel's SSH asked again over a fresh connection through them, and the live state kept as
the mark drift is measured against."""

from __future__ import annotations

import asyncio

from django.utils import timezone

from panel.jobs.runner import JobContext, JobFailed
from servers import ssh
from servers.commands import firewall as commands
from servers.execute import StepFailed, StepRunner
from servers.firewall import Live, parse_live, rules_from
from servers.firewall_plans import Refused, plan_firewall
from servers.models import Firewall, Server
from servers.plans import Host
from servers.targets import target_for


async def read_live(target: ssh.Target) -> Live:
    return parse_live((await ssh.run(target, commands.read(), timeout=60)).stdout)


def apply_firewall(ctx: JobContext) -> None:
    server = Server.objects.select_related("ssh_key").get(pk=ctx.job.target_id, team=ctx.job.team)
    firewall = Firewall.objects.get(server=server)
    rules = rules_from(ctx.job.params["rules"])
    target = target_for(server)
    try:
        live = asyncio.run(read_live(target))
        plan = plan_firewall(Host(server.pk, server.name), rules,
                             rules_from(firewall.applied_rules), live)  # fmt: skip
    except ssh.SshError as error:
        raise JobFailed(str(error)) from error
    except Refused as error:
        raise JobFailed(f"Nothing was changed: {error}") from error
    script = commands.install_script(rules, with_ufw=bool(live.ufw))
    runner = StepRunner({server.pk: target}, ctx.log, secrets={commands.SCRIPT: script},
                        check_cancelled=ctx.check_cancelled)  # fmt: skip
    try:
        for phase in plan.phases:
            asyncio.run(runner.phase(phase))
    except (StepFailed, ssh.SshError) as error:
        raise JobFailed(f"The firewall is only partly in place: {error}") from error
    asyncio.run(ssh.forget(target))
    try:
        after = asyncio.run(read_live(target))
    except ssh.SshError as error:
        raise JobFailed(f"The panel's SSH did not answer through the new rules: {error}") from error
    Firewall.objects.filter(pk=firewall.pk).update(
        applied_rules=ctx.job.params["rules"], applied_state=list(after.lines),
        applied_at=timezone.now(),
    )  # fmt: skip
    ctx.log(f"{len(rules)} rules in place on {server.name}; the panel's SSH answered through "
            "them over a fresh connection.")  # fmt: skip
