"""Runs plans (`servers.plans`) on the executor: phase by phase, the lanes of a phase side by
side, every command written to the job log as it runs. Secrets and file contents are handed
in by name at run time; a plan never holds them."""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from panel.errors import PanelError
from panel.log_kinds import LogKind
from panel.sensitive import Sensitive
from panel.units import duration
from servers import ssh
from servers.commands import apt, docker, proxy, routes
from servers.plans import (
    Host,
    Pause,
    Phase,
    Pipe,
    PointRoute,
    ProxyCall,
    Put,
    Reboot,
    Route,
    Run,
    Step,
    WaitFor,
    WaitHealthy,
)
from servers.proxy_api import admin
from servers.updates import Boot, parse_boot

PARALLEL_LANES = 10
LOG_TAIL_LINES = 30
REBOOT_POLL = 3.0  # seconds between attempts to reach a rebooting server


class StepFailed(PanelError):
    """A step that did not do what it should; the message says which and why."""


@dataclass(frozen=True)
class RouteBefore:
    """A route as it was on one proxy server before a switch (None: there was none)."""

    host: Host
    route: Route
    entries: dict[str, dict[str, Any] | None]


Log = Callable[[str, LogKind], None]


class StepRunner:
    def __init__(
        self,
        targets: Mapping[int, ssh.Target],
        log: Log,
        *,
        secrets: Mapping[str, Sensitive[str] | str] | None = None,
        contents: Mapping[str, bytes] | None = None,
        local_env: dict[str, str] | None = None,
        check_cancelled: Callable[[], None] = lambda: None,
        on_start: Callable[[Run], Awaitable[None]] | None = None,
    ) -> None:
        self.targets, self.log = targets, log
        self.secrets, self.contents = secrets or {}, contents or {}
        self.local_env, self.check_cancelled, self.on_start = local_env, check_cancelled, on_start
        self.recorded: dict[str, str] = {}

    async def phase(self, phase: Phase) -> None:
        """Run the phase's lanes side by side (bounded); its cleanup always runs after."""
        self.check_cancelled()
        self.log(f"== {phase.title}", LogKind.INFO)
        if (
            phase.skip
            and (await ssh.run(self.target(phase.skip.host), phase.skip.argv, check=False)).ok
        ):
            self.log(phase.skip.note, LogKind.INFO)
            return
        try:
            await bounded([self.lane(steps) for steps in phase.lanes])
        finally:
            for step in phase.cleanup:
                try:
                    await self.step(step)
                except ssh.SshError as error:
                    self.log(f"cleanup: {error}", LogKind.ERROR)

    async def lane(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            self.check_cancelled()
            await self.step(step)

    async def step(self, step: Step) -> None:
        if isinstance(step, Run):
            await self.run(step)
        elif isinstance(step, Put):
            await self.put(step)
        elif isinstance(step, Pipe):
            await self.pipe(step)
        elif isinstance(step, WaitHealthy):
            await self.wait_healthy(step)
        elif isinstance(step, WaitFor):
            await self.wait_for(step)
        elif isinstance(step, PointRoute):
            await self.point(step)
        elif isinstance(step, ProxyCall):
            await self.proxy_call(step)
        elif isinstance(step, Reboot):
            await self.reboot(step)
        elif isinstance(step, Pause):
            self.log(
                f"Waiting {step.seconds:g}s{': ' + step.title if step.title else ''}", LogKind.INFO
            )
            await asyncio.sleep(step.seconds)

    def target(self, host: Host) -> ssh.Target:
        return self.targets[host.id]

    async def skipped(self, host: Host, unless: tuple[str, ...], title: str) -> bool:
        if unless and (await ssh.run(self.target(host), unless, check=False)).ok:
            self.log(f"[{host.name}] {title or 'step'}: not needed, skipped.", LogKind.INFO)
            return True
        return False

    async def run(self, step: Run) -> None:
        if await self.skipped(step.host, step.unless, step.title):
            return
        if step.starts and self.on_start is not None:
            await self.on_start(step)
        stdin = self.secret(step.stdin).encode() if step.stdin else None
        target = self.target(step.host)
        if step.stream:
            await self.stream(step, target, stdin)
            return
        result = await ssh.run(
            target,
            step.argv,
            timeout=step.timeout,
            stdin=stdin,
            check=step.check,
            log=self.log,
            log_output=not (step.record or step.note),
        )
        if step.record:
            self.recorded[step.record] = result.stdout.strip()
        if step.note and result.ok:
            self.log(f"[{step.host.name}] {step.note}", LogKind.INFO)

    async def stream(self, step: Run, target: ssh.Target, stdin: bytes | None) -> None:
        name = step.host.name
        self.log(f"[{name}] {shlex.join(step.argv)}", LogKind.COMMAND)
        try:
            async for _, line in ssh.stream(
                target, step.argv, timeout=step.timeout, stdin=stdin, terminal=stdin is None
            ):
                self.log(f"[{name}] {line}", LogKind.OUTPUT)
                self.check_cancelled()
        except ssh.CommandFailed as failed:
            status = failed.result.exit_status
            what = f"The {step.title.lower()}" if step.title else "The command"
            raise StepFailed(f"{what} failed on {name} (exit {status}).") from failed
        self.log(f"[{name}] exit 0", LogKind.INFO)

    async def put(self, step: Put) -> None:
        self.log(f"[{step.host.name}] {step.lines()[0]}", LogKind.INFO)
        await ssh.put(self.target(step.host), step.path, self.contents[step.content], step.mode)

    async def pipe(self, step: Pipe) -> None:
        if await self.skipped(step.host, step.unless, step.title):
            return
        name = step.host.name

        def on_line(line: str) -> None:
            if step.stream:
                self.log(f"[{name}] {line}", LogKind.OUTPUT)

        result = await ssh.pipe(
            self.target(step.source) if step.source else None,
            step.source_argv,
            self.target(step.host),
            step.argv,
            timeout=step.timeout,
            local_env=self.local_env,
            log=self.log,
            on_line=on_line,
        )
        if not step.stream:
            for line in (result.stdout + "\n" + result.stderr).splitlines():
                if line.strip():
                    self.log(f"[{name}] {line}", LogKind.OUTPUT)

    async def wait_healthy(self, step: WaitHealthy) -> None:
        target, label = self.target(step.host), f"[{step.host.name}] {step.container}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + step.timeout
        address, reason = "", "no answer yet"
        while True:
            self.check_cancelled()
            state = (
                await ssh.run(target, docker.container_state(step.container), check=False)
            ).stdout.split()
            if state and state[0] in ("exited", "dead"):
                reason = f"the container exited ({state[0]})"
                break
            if step.path:
                if not address:
                    found = await ssh.run(
                        target, docker.container_address(step.container), check=False
                    )
                    address = found.stdout.strip()
                healthy, reason = await self.probe(target, address, step)
            else:
                healthy = (
                    len(state) > 1 and state[0] == "running" and state[1] in ("none", "healthy")
                )
                reason = f"state {' '.join(state)}"
            if healthy:
                self.log(f"{label} is healthy.", LogKind.INFO)
                return
            if loop.time() >= deadline:
                break
            await asyncio.sleep(step.interval)
        await self.log_tail(target, step.container, label)
        raise StepFailed(
            f"{step.container} on {step.host.name} did not become healthy within "
            f"{step.timeout:g}s ({reason})"
        )

    async def wait_for(self, step: WaitFor) -> None:
        target, label = self.target(step.host), f"[{step.host.name}] {step.container}"
        self.log(f"{label}: waiting {step.lines()[0]}", LogKind.INFO)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + step.timeout
        while True:
            self.check_cancelled()
            if await self.answers(target, step):
                self.log(f"{label} is ready.", LogKind.INFO)
                return
            state = await ssh.run(target, docker.container_state(step.container), check=False)
            exited = state.stdout.split()[:1] in (["exited"], ["dead"])
            if exited or loop.time() >= deadline:
                break
            await asyncio.sleep(step.interval)
        await self.log_tail(target, step.container, label)
        why = "it exited" if exited else f"not within {step.timeout:g}s"
        raise StepFailed(f"{step.container} on {step.host.name} did not become ready ({why}).")

    async def answers(self, target: ssh.Target, step: WaitFor) -> bool:
        if step.argv:
            return (await ssh.run(target, step.argv, check=False)).ok
        found = await ssh.run(target, docker.container_address(step.container), check=False)
        address = found.stdout.strip()
        return bool(address) and await ssh.accepts(target, address, step.port)

    async def reboot(self, step: Reboot) -> Boot:
        """Reboot, then wait for the server's return: a fresh connection each attempt (the
        pooled one died with the old boot), until one finds a new boot id. Returns it."""
        target, name = self.target(step.host), step.host.name
        before = parse_boot((await ssh.run(target, apt.boot(), timeout=15)).stdout)
        self.log(f"[{name}] boot id before: {before.id}", LogKind.INFO)
        with suppress(ssh.ConnectionDropped):  # it went down before answering
            await ssh.run(target, step.argv, timeout=30, log=self.log)
        self.log(f"[{name}] rebooting; waiting for SSH (at most {step.timeout:g}s)", LogKind.INFO)
        loop = asyncio.get_running_loop()
        started, reason = loop.time(), "no answer yet"
        while loop.time() - started < step.timeout:
            self.check_cancelled()
            await asyncio.sleep(REBOOT_POLL)
            await ssh.forget(target)
            try:
                output = await asyncio.wait_for(ssh.run(target, apt.boot(), timeout=10), 15)
            except ssh.HostKeyMismatch:
                raise
            except (ssh.SshError, TimeoutError) as error:
                reason = str(error) or "no answer"
                continue
            boot = parse_boot(output.stdout)
            if boot.id and boot.id != before.id:
                self.log(f"[{name}] back after {loop.time() - started:.0f}s: boot id {boot.id}, "
                         f"up {duration(boot.uptime)}", LogKind.INFO)  # fmt: skip
                return boot
            reason = "it still runs the old boot"
        raise StepFailed(f"{name} did not come back within {step.timeout:g}s ({reason}).")

    async def log_tail(self, target: ssh.Target, container: str, label: str) -> None:
        logs = await ssh.run(target, docker.container_logs(container, LOG_TAIL_LINES), check=False)
        self.log(f"{label}: last log lines:", LogKind.ERROR)
        for line in (logs.stdout + logs.stderr).splitlines()[-LOG_TAIL_LINES:]:
            self.log(f"{label} | {line}", LogKind.ERROR)

    async def probe(self, target: ssh.Target, address: str, step: WaitHealthy) -> tuple[bool, str]:
        if not address:
            return False, "no address on the panel network yet"
        try:
            response = await ssh.http(
                target, address, step.port, "GET", step.path, timeout=step.probe_timeout
            )
        except ssh.SshError as error:
            return False, str(error)
        return 200 <= response.status < 300, f"HTTP {response.status}"

    async def point(self, step: PointRoute) -> RouteBefore:
        """Point the route (see PointRoute) and return how it was before, for `restore`."""
        before = await self.route_before(step)
        await self.apply_route(step, before)
        return before

    async def route_before(self, step: PointRoute) -> RouteBefore:
        target, route = self.target(step.host), step.route
        before = RouteBefore(step.host, route, {})
        for server in (proxy.HTTP_SERVER, proxy.HTTPS_SERVER):
            found = await admin(target, routes.get_route(route.id, server))
            before.entries[server] = json.loads(found.body) if found.status == 200 else None
        return before

    async def apply_route(self, step: PointRoute, before: RouteBefore) -> None:
        for server, entry in routes.entries_for(step.route, step.upstream, step.remove).items():
            if entry is None:
                await self.admin(
                    step.host, routes.delete_route(step.route.id, server), missing_ok=True
                )
            else:
                await self.set_route(step.host, step.route, server, entry, before.entries[server])
        if step.upstream:
            self.log(f"[{step.host.name}] the proxy now sends {', '.join(step.route.domains)} "
                     f"to {step.upstream}", LogKind.INFO)  # fmt: skip

    async def restore(self, before: RouteBefore) -> None:
        """Put a route back the way `point` found it."""
        for server, entry in before.entries.items():
            if entry is None:
                await self.admin(
                    before.host, routes.delete_route(before.route.id, server), missing_ok=True
                )
            else:
                current = await admin(
                    self.target(before.host), routes.get_route(before.route.id, server)
                )
                existing = json.loads(current.body) if current.status == 200 else None
                await self.set_route(before.host, before.route, server, entry, existing)

    async def set_route(
        self,
        host: Host,
        route: Route,
        server: str,
        entry: dict[str, Any],
        existing: dict[str, Any] | None,
    ) -> None:
        if existing is None:
            requests = [routes.add_route(route.id, entry, server)]
        else:
            requests = [
                routes.set_handle(route.id, entry["handle"], server),
                routes.set_match(route.id, entry["match"], server),
            ]
        for request in requests:
            await self.admin(host, request)

    async def proxy_call(self, step: ProxyCall) -> None:
        await self.admin(step.host, step.request)

    async def admin(
        self, host: Host, request: proxy.AdminRequest, missing_ok: bool = False
    ) -> ssh.HttpResponse:
        response = await admin(self.target(host), request)
        ok = 200 <= response.status < 300 or (missing_ok and response.status in (404, 500))
        if not ok:
            raise StepFailed(
                f"{host.name}: the proxy refused {request.method} {request.path}: "
                f"HTTP {response.status} {response.body[:300].decode(errors='replace')}"
            )
        if missing_ok and not 200 <= response.status < 300:
            self.log(f"[{host.name}] proxy: nothing at {request.path} to remove", LogKind.INFO)
        else:
            said = f"[{host.name}] proxy {request.method} {request.path} → {response.status}"
            self.log(said, LogKind.INFO)
        return response

    def secret(self, name: str) -> str:
        value = self.secrets[name]
        return value.reveal() if isinstance(value, Sensitive) else value


async def bounded(work: list[Coroutine[Any, Any, Any]], limit: int = PARALLEL_LANES) -> None:
    """Run side by side, at most `limit` at once; wait for all, then raise the first error."""
    gate = asyncio.Semaphore(limit)

    async def one(coroutine: Coroutine[Any, Any, Any]) -> None:
        async with gate:
            await coroutine

    results = await asyncio.gather(*(one(w) for w in work), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
