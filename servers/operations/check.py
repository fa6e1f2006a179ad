"""Check job: connect, read the host's facts, record them on the server."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from panel.jobs.runner import JobContext
from panel.units import gib
from servers import ssh, state
from servers.commands import host
from servers.models import Server
from servers.targets import target_for


def check(ctx: JobContext) -> None:
    server = Server.objects.select_related("ssh_key").get(pk=ctx.job.target_id)
    ctx.log(f"Checking {server.name} ({server.address})")
    try:
        facts = asyncio.run(read_facts(target_for(server), ctx))
    except ssh.SshError as error:
        if not isinstance(error, ssh.HostKeyMismatch):
            state.record_unreachable(server.pk, str(error))
        raise
    state.record_facts(server.pk, facts)
    for line in describe(facts):
        ctx.log(line)


async def read_facts(target: ssh.Target, ctx: JobContext) -> dict[str, Any]:
    sent = time.time()
    result = await ssh.run(target, host.facts(), timeout=30, log=ctx.log, log_output=False)
    received = time.time()
    facts: dict[str, Any] = dict(host.parse_facts(result.stdout))
    try:
        facts["time_offset"] = round(float(facts.pop("time")) - (sent + received) / 2, 3)
    except (KeyError, ValueError):
        facts["time_offset"] = None
    facts["can_docker"] = bool(facts.get("docker_server"))
    facts["buildkit"] = buildkit_of(facts)
    return facts


def buildkit_of(facts: dict[str, Any]) -> str:
    """How this host's docker builds with BuildKit (build secrets need it), or "" if not:
    clients from 23 on need the buildx plugin; older ones have BuildKit built in."""
    if facts.get("buildx"):
        return f"buildx {facts['buildx']}"
    major = str(facts.get("docker_client") or "").split(".")[0]
    if major.isdigit() and int(major) < 23:
        return f"built into docker {facts['docker_client']}"
    return ""


def describe(facts: dict[str, Any]) -> list[str]:
    docker = facts.get("docker_server") or (
        "installed, but this user cannot use it" if facts.get("docker_cli") == "yes" else "missing"
    )
    return [
        f"System: {facts.get('os')} ({facts.get('kernel')}, {facts.get('arch')})",
        f"CPUs: {facts.get('cpus')}  memory: {gib(facts.get('memory_bytes'))}  "
        f"disk: {gib(facts.get('disk_free_bytes'))} free of "
        f"{gib(facts.get('disk_total_bytes'))}",
        f"Docker: {docker}",
        f"BuildKit (build secrets): {facts.get('buildkit') or 'missing: install docker-buildx'}",
        f"Proxy: {'running' if facts.get('proxy') == 'true' else 'not running'}",
        f"Clock offset: {facts.get('time_offset')} s",
    ]
