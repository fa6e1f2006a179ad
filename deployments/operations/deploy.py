"""The deploy job (Kamal's deploy): pull, run, health-check, switch the proxy, stop the old.

Until the switch nothing the users see changes: any failure before it removes the new
containers and the old release keeps serving. Redeploy, rollback and restart are this same
flow with another release.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.db import transaction
from django.utils import timezone

from deployments.commands import containers, routes
from deployments.models import App, Container, Release, ReleaseStatus
from deployments.operations import oneoff
from deployments.operations.build import (
    Build,
    build_servers,
    parse_build_args,
    push_registry,
    resolve_release,
)
from deployments.operations.plan import Placement, placements, run_command
from deployments.operations.prune import prune
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers import services as server_services
from servers import ssh
from servers.commands import proxy
from servers.models import Server
from servers.proxy_api import admin

PARALLEL_SERVERS = 10


def deploy(ctx: JobContext) -> None:
    release = Release.objects.select_related("app__team").get(pk=ctx.job.params["release"])
    try:
        _deploy(ctx, release)
    except BaseException:
        # A release that did not go live failed; a role redeployed alone keeps its status.
        Release.objects.filter(pk=release.pk, status=ReleaseStatus.PENDING).update(
            status=ReleaseStatus.FAILED
        )
        raise


def _deploy(ctx: JobContext, release: Release) -> None:
    app = release.app
    held = locks.acquire(app.lock_name, ctx.job.pk)
    if held is None:
        holder = locks.holder_of(app.lock_name)
        raise JobFailed(
            f"{app.name} is being deployed by job #{holder.pk if holder else '?'}; "
            "this deploy changed nothing."
        )
    if app.git_url and not ctx.job.params.get("roles"):
        release = resolve_release(ctx, app, release)
    ctx.log(f"Deploying {app.name} {release.version} ({release.image}), lock fence {held.fence}")
    if app.registry_password:
        ctx.add_secret(app.registry_password)
    for value in parse_build_args(app.build_args.reveal()).values():
        ctx.add_secret(value)
    for variable in app.env.filter(secret=True):
        ctx.add_secret(variable.value)
    only = set(ctx.job.params.get("roles") or [])
    where = [p for p in placements(app, release) if not only or p.role in only]
    if not where:
        raise JobFailed(f"{app.name} has no servers for {', '.join(sorted(only)) or 'any role'}.")
    _attach_previous(app, release, where)
    # A role deployed alone runs the live release again: its status stays as it is.
    if not only:
        Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.PENDING, job=ctx.job)
    flow = DeployFlow(ctx, app, release, where, held)
    if app.git_url and not only:
        flow.build = _build_for(ctx, app, release, flow)
    has_hooks = app.pre_deploy_command or app.post_deploy_command
    flow.hooks = oneoff.place_for(app) if has_hooks and not only else None
    try:
        asyncio.run(flow.run())
    except ssh.SshError as error:
        raise JobFailed(str(error)) from error
    _go_live(app, release, where)
    ctx.log(f"{app.name} {release.version} is live.")
    asyncio.run(prune(ctx, app, where))
    if flow.hooks is not None and app.post_deploy_command:
        try:
            asyncio.run(
                oneoff.run_hook(
                    ctx, app, release, flow.hooks, app.post_deploy_command, "post-deploy"
                )
            )
        except (JobFailed, ssh.SshError) as failure:
            raise JobFailed(
                f"{failure} The release is live; the post-deploy hook failed."
            ) from failure


class DeployFlow:
    def __init__(
        self,
        ctx: JobContext,
        app: App,
        release: Release,
        where: list[Placement],
        held: locks.Held,
    ) -> None:
        self.ctx, self.app, self.release, self.where, self.held = ctx, app, release, where, held
        self.targets = {p.server.pk: server_services.target_for(p.server) for p in where}
        self.started: list[Placement] = []
        self.switched = False
        self.hooks: oneoff.Place | None = None  # set for a deploy of every role
        self.build: Build | None = None  # set for an app built from git

    async def run(self) -> None:
        try:
            if self.build is not None:
                await self.step("Build", self.build.run)
            await self.step("Pull, start and health-check on every server", self.prepare_all)
            self.ctx.check_cancelled()
            if not await asyncio.to_thread(locks.is_current, self.held):
                raise JobFailed("The deploy lock was taken over; stopping before the switch.")
            await self.step("Switch", self.switch_all)
        except BaseException:
            if not self.switched:
                await self.remove_started()
            raise
        await self.step("Stop previous containers", self.stop_previous)

    async def step(self, title: str, action: Any) -> None:
        self.ctx.check_cancelled()
        self.ctx.log(f"== {title}")
        await action()

    def target(self, placement: Placement) -> ssh.Target:
        return self.targets[placement.server.pk]

    async def run_cmd(self, server: Server, argv: list[str], **options: Any) -> ssh.CommandResult:
        return await ssh.run(self.targets[server.pk], argv, log=self.ctx.log, **options)

    async def prepare_all(self) -> None:
        """Pre-deploy hook first; then the web role, then the other roles once web is healthy.
        Within a phase each server goes through pull, start and health on its own; the
        switch waits for all of them, so one slow server does not hold the others."""
        if self.hooks is not None and self.app.pre_deploy_command:
            await self.pull(self.hooks.server)
            await oneoff.run_hook(
                self.ctx,
                self.app,
                self.release,
                self.hooks,
                self.app.pre_deploy_command,
                "pre-deploy",
            )
        web = [p for p in self.where if p.proxied]
        others = [p for p in self.where if not p.proxied]
        for phase in (web, others):
            by_server: dict[int, list[Placement]] = {}
            for placement in phase:
                by_server.setdefault(placement.server.pk, []).append(placement)
            await _bounded([self.prepare(placements) for placements in by_server.values()])

    async def prepare(self, placements: list[Placement]) -> None:
        await self.pull(placements[0].server)
        for placement in placements:
            self.ctx.check_cancelled()
            await self.start(placement)
        await _bounded([self.check(p) for p in placements])

    async def pull(self, server: Server) -> None:
        if self.build is not None and not self.build.registry:
            return  # built here and copied to every server: nothing to pull
        registry = containers.registry_of(self.release.image)
        password = self.app.registry_password
        if registry and self.app.registry_username and password:
            login = containers.login(registry, self.app.registry_username)
            await self.run_cmd(server, login, stdin=password.reveal().encode())
        await self.run_cmd(server, containers.pull(self.release.image), timeout=900)

    async def start(self, placement: Placement) -> None:
        target = self.target(placement)
        home = await ssh.home_dir(target)
        env_path = placement.env_path(home, self.app.name)
        await self.run_cmd(
            placement.server, ["mkdir", "-p", "-m", "700", "--", env_path.rsplit("/", 1)[0]]
        )
        await ssh.put(target, env_path, containers.env_file(placement.env), 0o600)
        self.started.append(placement)
        await asyncio.to_thread(_record_container, self.release, placement)
        await self.run_cmd(placement.server, run_command(self.app, self.release, placement, home))

    async def check_all(self) -> None:
        await _bounded([self.check(p) for p in self.where])

    async def check(self, placement: Placement) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.app.deploy_timeout
        label = f"[{placement.server.name}] {placement.name}"
        reason = "no answer yet"
        while True:
            self.ctx.check_cancelled()
            state = (
                await self.run_cmd(
                    placement.server, containers.state(placement.name), log_output=False
                )
            ).stdout.split()
            if state and state[0] in ("exited", "dead"):
                reason = f"the container exited ({state[0]})"
                break
            if placement.proxied:
                healthy, reason = await self.probe(placement)
            else:
                healthy = bool(state) and state[0] == "running" and state[1] in ("none", "healthy")
                reason = f"state {' '.join(state)}"
            if healthy:
                self.ctx.log(f"{label} is healthy.")
                return
            if loop.time() >= deadline:
                break
            await asyncio.sleep(self.app.health_interval)
        logs = await self.run_cmd(
            placement.server, containers.logs(placement.name), check=False, log_output=False
        )
        self.ctx.log(f"{label}: last log lines:", "err")
        for line in (logs.stdout + logs.stderr).splitlines()[-30:]:
            self.ctx.log(f"{label} | {line}", "err")
        raise JobFailed(
            f"{placement.name} on {placement.server.name} did not become healthy within "
            f"{self.app.deploy_timeout}s ({reason}); the previous release keeps serving."
        )

    async def probe(self, placement: Placement) -> tuple[bool, str]:
        target = self.target(placement)
        if not placement.address:
            found = await ssh.run(target, containers.address(placement.name), check=False)
            placement.address = found.stdout.strip()
            if not placement.address:
                return False, "no address on the panel network yet"
        try:
            response = await ssh.http(
                target,
                placement.address,
                self.app.container_port,
                "GET",
                self.app.health_path,
                timeout=self.app.health_timeout,
            )
        except ssh.SshError as error:
            return False, str(error)
        return 200 <= response.status < 300, f"HTTP {response.status}"

    async def switch_all(self) -> None:
        web = [p for p in self.where if p.proxied]
        self.switched = bool(web)
        await _bounded([self.switch(p) for p in web])

    async def switch(self, placement: Placement) -> None:
        upstream = f"{placement.name}:{self.app.container_port}"
        await point_route(
            self.ctx, self.target(placement), self.app, routes.proxy_handler(upstream)
        )
        self.ctx.log(f"[{placement.server.name}] the proxy now sends {self.app.name} to {upstream}")

    async def stop_previous(self) -> None:
        old = [(p, name) for p in self.where for name in p.previous]
        if not old:
            return
        if any(p.proxied for p, _ in old) and self.app.drain_timeout:
            self.ctx.log(f"Draining for {self.app.drain_timeout}s")
            await asyncio.sleep(self.app.drain_timeout)
        await _bounded(
            [
                self.run_cmd(
                    p.server,
                    containers.stop(name, self.app.stop_timeout),
                    check=False,
                    timeout=self.app.stop_timeout + 30,
                )
                for p, name in old
            ]
        )

    async def remove_started(self) -> None:
        if not self.started:
            return
        self.ctx.log("Removing the new containers; the previous release keeps serving.", "err")
        await asyncio.gather(
            *(self.run_cmd(p.server, containers.remove(p.name), check=False) for p in self.started),
            return_exceptions=True,
        )
        await asyncio.to_thread(_forget_containers, [p.name for p in self.started])


async def point_route(
    ctx: JobContext, target: ssh.Target, app: App, handle: list[dict[str, object]]
) -> None:
    """Make the app's routes on this server's proxy use `handle`: on :80, or with TLS on
    :443 (and :80 redirecting to it, unless the app asks otherwise)."""
    if app.tls:
        plain = routes.redirect_to_https_handler() if app.redirect_http else handle
        if handle == routes.maintenance_handler():
            plain = handle
        await _put_route(ctx, target, app, proxy.HTTPS_SERVER, handle)
        await _put_route(ctx, target, app, proxy.HTTP_SERVER, plain)
    else:
        await _put_route(ctx, target, app, proxy.HTTP_SERVER, handle)
        await admin(target, routes.delete_route(app.pk.hex, proxy.HTTPS_SERVER))


async def _put_route(
    ctx: JobContext, target: ssh.Target, app: App, server: str, handle: list[dict[str, object]]
) -> None:
    app_id, domains = app.pk.hex, list(app.domains)
    exists = await admin(target, routes.get_route(app_id, server))
    if exists.status == 200:
        requests = [
            routes.set_handle(app_id, handle, server),
            routes.set_domains(app_id, domains, server),
        ]
    else:
        requests = [routes.add_route(app_id, domains, handle, server)]
    for request in requests:
        response = await admin(target, request)
        if not 200 <= response.status < 300:
            raise JobFailed(
                f"{target.name}: the proxy refused {request.method} {request.path}: "
                f"HTTP {response.status} {response.body[:300].decode(errors='replace')}"
            )
        ctx.log(f"[{target.name}] proxy {request.method} {request.path} → {response.status}")


async def _bounded(work: list[Any]) -> None:
    limit = asyncio.Semaphore(PARALLEL_SERVERS)

    async def one(coroutine: Any) -> None:
        async with limit:
            await coroutine

    results = await asyncio.gather(*(one(w) for w in work), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _build_for(ctx: JobContext, app: App, release: Release, flow: DeployFlow) -> Build:
    builder, others = build_servers(app, flow.where)
    if builder.pk not in flow.targets:
        flow.targets[builder.pk] = server_services.target_for(builder)
    receivers = [flow.targets[server.pk] for server in others]
    return Build(ctx, app, release, flow.targets[builder.pk], receivers, push_registry(app))


def _attach_previous(app: App, release: Release, where: list[Placement]) -> None:
    running = list(Container.objects.filter(release__app=app, running=True))
    for placement in where:
        placement.previous = [
            c.name
            for c in running
            if c.server_id == placement.server.pk and c.role == placement.role
        ]


def _record_container(release: Release, placement: Placement) -> None:
    Container.objects.create(
        release=release,
        server=placement.server,
        role=placement.role,
        name=placement.name,
        running=True,
    )


def _forget_containers(names: list[str]) -> None:
    Container.objects.filter(name__in=names).delete()


def _go_live(app: App, release: Release, where: list[Placement]) -> None:
    with transaction.atomic():
        previous = [name for p in where for name in p.previous]
        Container.objects.filter(name__in=previous).update(running=False)
        Release.objects.filter(app=app, status=ReleaseStatus.LIVE).exclude(pk=release.pk).update(
            status=ReleaseStatus.RETIRED
        )
        Release.objects.filter(pk=release.pk).update(
            status=ReleaseStatus.LIVE, live_at=timezone.now()
        )
        App.objects.filter(pk=app.pk).update(current_release=release, stopped=False)
