"""Bootstrap job (Kamal's `server bootstrap` and proxy boot): Docker, the network, the proxy.

Idempotent: each step looks first and changes only what is missing or different.
"""

from __future__ import annotations

import asyncio
import posixpath
from contextlib import suppress
from typing import Any

from django.conf import settings

from panel.errors import PanelError
from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh, state
from servers.commands import docker, host, proxy
from servers.models import Server
from servers.operations.check import read_facts
from servers.proxy_api import admin
from servers.targets import proxy_image, target_for

PROXY_READY_SECONDS = 20


def bootstrap(ctx: JobContext) -> None:
    server = Server.objects.select_related("ssh_key").get(pk=ctx.job.target_id)
    target = target_for(server)
    try:
        asyncio.run(Bootstrap(ctx, target, server, proxy_image(server)).run())
    finally:  # what the page says afterwards is what the server has, whatever happened
        with suppress(PanelError):
            state.record_facts(server.pk, asyncio.run(read_facts(target, ctx)))


class Bootstrap:
    def __init__(self, ctx: JobContext, target: ssh.Target, server: Server, image: str) -> None:
        self.ctx, self.target, self.server, self.image = ctx, target, server, image

    async def run(self) -> None:
        facts = await self.step("Checking the host", self.check)
        if not facts.get("docker_server"):
            await self.step("Installing Docker", lambda: self.install_docker(facts))
        await self.step("Docker network", self.network)
        await self.step("Proxy", self.proxy)

    async def step(self, title: str, action: Any) -> Any:
        self.ctx.check_cancelled()
        self.ctx.log(f"== {title}")
        return await action()

    async def check(self) -> dict[str, Any]:
        return await read_facts(self.target, self.ctx)

    async def install_docker(self, facts: dict[str, Any]) -> None:
        family = {facts.get("os_id", ""), *str(facts.get("os_like", "")).split()}
        if not family & set(docker.SUPPORTED_SYSTEMS):
            raise JobFailed(
                f"Docker is missing and {facts.get('os')} is not Debian or Ubuntu: install "
                "Docker Engine yourself, then run bootstrap again."
            )
        sudo = facts.get("uid") != "0"
        await self.run_cmd(docker.install(sudo=sudo), timeout=900)
        if sudo:
            await self.run_cmd(docker.add_user_to_docker_group(self.target.user, sudo=True))
            await ssh.close_all()  # a new login picks up the docker group
        version = await self.run_cmd(docker.server_version())
        self.ctx.log(f"Docker {version.stdout.strip()} is installed.")

    async def network(self) -> None:
        if (await self.run_cmd(docker.network_inspect(), check=False)).ok:
            self.ctx.log(f"Network `{docker.NETWORK}` exists.")
            return
        await self.run_cmd(docker.network_create())

    async def proxy(self) -> None:
        """The proxy with this image and config. A replacement is pulled and created first;
        the running proxy stops only once it exists, and comes back if it does not answer."""
        # Docker mounts only absolute paths: this one is made from the home.
        folder = posixpath.join(await ssh.home_dir(self.target), host.panel_path("proxy"))
        config_file = posixpath.join(folder, "caddy.json")
        await self.run_cmd(host.make_directory(folder, mode="755"))
        await ssh.put(self.target, config_file, proxy.config_json(), 0o644)
        state = (await self.run_cmd(proxy.inspect(), log_output=False)).stdout.strip()
        running, _, label = state.partition(" ")
        if state and label == proxy.config_hash(self.image):
            if running == "true":
                self.ctx.log(f"Proxy `{proxy.CONTAINER}` is running with this image and config.")
            else:
                await self.run_cmd(proxy.start())
        else:
            await self.replace_proxy(config_file, exists=bool(state))
        await self.wait_for_admin_api()
        await self.ensure_base_routes()

    async def replace_proxy(self, config_file: str, *, exists: bool) -> None:
        await self.fetch_image()
        await self.run_cmd(proxy.remove(proxy.NEXT), check=False, log_output=False)
        await self.run_cmd(proxy.create(self.image, config_file, proxy.NEXT))
        if not exists:
            await self.run_cmd(proxy.rename(proxy.NEXT, proxy.CONTAINER))
            await self.run_cmd(proxy.start())
            return
        self.ctx.log("The proxy's image or config differs: the new one takes over.")
        await self.run_cmd(proxy.remove(proxy.PREVIOUS), check=False, log_output=False)
        await self.run_cmd(proxy.rename(proxy.CONTAINER, proxy.PREVIOUS))
        await self.run_cmd(proxy.stop(proxy.PREVIOUS), timeout=60)
        try:
            await self.run_cmd(proxy.rename(proxy.NEXT, proxy.CONTAINER))
            await self.run_cmd(proxy.start())
            await self.wait_for_admin_api()
        except (ssh.SshError, JobFailed) as failure:
            self.ctx.log("The new proxy did not come up: the previous one takes over again.",
                         LogKind.ERROR)  # fmt: skip
            await self.run_cmd(proxy.remove(proxy.CONTAINER), check=False)
            await self.run_cmd(proxy.rename(proxy.PREVIOUS, proxy.CONTAINER))
            await self.run_cmd(proxy.start())
            raise JobFailed(
                f"The proxy with {self.image} did not start ({failure}); the previous proxy is "
                "serving again."
            ) from failure
        await self.run_cmd(proxy.remove(proxy.PREVIOUS))

    async def fetch_image(self) -> None:
        if (await self.run_cmd(proxy.has_image(self.image), check=False, log_output=False)).ok:
            return
        try:
            await self.run_cmd(proxy.pull(self.image), timeout=600)
        except ssh.CommandFailed as failed:
            words = (failed.result.stderr or failed.result.stdout).strip().splitlines()[-1:]
            raise JobFailed(
                f"{self.server.name} cannot pull the proxy image {self.image}"
                f"{': ' + words[0] if words else ''}. Nothing was changed: the running proxy "
                "keeps serving. Set a Proxy image this server can pull (Edit the server), then "
                "bootstrap again."
            ) from failed

    async def ensure_base_routes(self) -> None:
        """A proxy that resumed an older saved config gets today's base settings too."""
        servers = f"/config/apps/http/servers/{proxy.HTTP_SERVER}"
        fallback = await self.admin("GET", f"/id/{proxy.FALLBACK_ROUTE_ID}")
        if fallback.status != 200:
            await self.admin("POST", f"{servers}/routes", proxy.fallback_route())
        await self.admin("POST", f"{servers}/automatic_https", {"disable": True})
        https = f"/config/apps/http/servers/{proxy.HTTPS_SERVER}"
        existing = await self.admin("GET", https)
        if existing.status != 200 or existing.body.strip() in (b"", b"null"):
            await self.admin("POST", https, proxy.https_server())
        await self.admin(
            "POST", "/config/apps/tls", proxy.tls_automation(settings.PANEL_TLS_ISSUER)
        )

    async def admin(self, method: str, path: str, body: object = None) -> ssh.HttpResponse:
        request = (
            proxy.AdminRequest(method, path)
            if body is None
            else proxy.AdminRequest.json(method, path, body)
        )
        response = await admin(self.target, request)
        if method != "GET" and not 200 <= response.status < 300:
            raise JobFailed(f"The proxy refused {method} {path}: HTTP {response.status}")
        return response

    async def wait_for_admin_api(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PROXY_READY_SECONDS
        while True:
            try:
                response = await ssh.http(
                    self.target, "127.0.0.1", proxy.ADMIN_PORT, "GET", "/config/"
                )
                if response.status == 200:
                    self.ctx.log("The proxy's admin API answers on the host's loopback.")
                    return
                reason = f"HTTP {response.status}"
            except ssh.SshError as error:
                reason = str(error)
            if loop.time() > deadline:
                raise JobFailed(
                    f"The proxy did not come up within {PROXY_READY_SECONDS}s: {reason}"
                )
            await asyncio.sleep(0.5)

    async def run_cmd(self, argv: list[str], **options: Any) -> ssh.CommandResult:
        return await ssh.run(self.target, argv, log=self.ctx.log, **options)
