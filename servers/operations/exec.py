"""Server exec (Kamal's `server exec`): an admin's command on several servers, output live."""

from __future__ import annotations

import asyncio

from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh, state
from servers.commands import host
from servers.models import Server
from servers.targets import target_for

PARALLEL_SERVERS = 10


def exec_on_servers(ctx: JobContext) -> None:
    command = str(ctx.job.params["command"])
    servers = list(
        Server.objects.filter(team=ctx.job.team, pk__in=ctx.job.params["servers"])
        .select_related("ssh_key")
        .order_by("name")
    )
    ctx.log(f"Running on {len(servers)} server(s): {command}")
    failures = asyncio.run(run_everywhere(ctx, servers, command))
    if failures:
        raise JobFailed(f"The command failed on {', '.join(sorted(failures))}.")


async def run_everywhere(ctx: JobContext, servers: list[Server], command: str) -> list[str]:
    limit = asyncio.Semaphore(PARALLEL_SERVERS)
    failures: list[str] = []

    async def one(server: Server) -> None:
        async with limit:
            try:
                target = target_for(server)
                ctx.log(f"[{server.name}] {command}", LogKind.COMMAND)
                async for _, line in ssh.stream(target, host.shell(command), timeout=3600):
                    ctx.log(f"[{server.name}] {line}", LogKind.OUTPUT)
                    ctx.check_cancelled()
                ctx.log(f"[{server.name}] exit 0")
            except ssh.HostKeyMismatch as mismatch:
                await asyncio.to_thread(state.record_mismatch, mismatch)
                ctx.log(str(mismatch), LogKind.ERROR)
                failures.append(server.name)
            except ssh.CommandFailed as failed:
                ctx.log(f"[{server.name}] exit {failed.result.exit_status}", LogKind.ERROR)
                failures.append(server.name)
            except ssh.SshError as error:
                ctx.log(str(error), LogKind.ERROR)
                failures.append(server.name)

    await asyncio.gather(*(one(server) for server in servers))
    return failures
