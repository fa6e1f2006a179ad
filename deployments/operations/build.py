"""Build from git: the commit's archive goes over SSH into `docker build` on the build server;
the image then reaches the other servers through the registry or `docker save | docker load`.
A failed build changes nothing that runs."""

from __future__ import annotations

import contextlib
import posixpath
import shlex

from deployments import git
from deployments.commands import containers
from deployments.models import App, Release
from deployments.operations.plan import Placement
from deployments.services import build_secrets, trust_git_host_key
from panel.audit import Actor
from panel.jobs.runner import JobContext, JobFailed
from servers import ssh
from servers.models import Server

BUILD_TIMEOUT = 1800


def parse_build_args(text: str) -> dict[str, str]:
    """`NAME=value` lines (validated by the form) as a dict."""
    args = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            args[name.strip()] = value
    return args


def resolve_release(ctx: JobContext, app: App, release: Release) -> Release:
    """Fetch the repository and pin the release to a commit (a branch head or a given ref)."""
    ref = release.commit or release.version or app.git_branch
    ctx.log(f"== Source: {app.git_url} at {ref}")
    try:
        learned = git.fetch(app)
        if learned:
            trust_git_host_key(Actor.of_job(ctx.job), app, learned)
            fingerprints = ", ".join(git.host_key_fingerprints(learned))
            ctx.log(f"Trusted the git host's key on first use: {fingerprints}")
        sha, subject = git.resolve(app, ref)
    except (git.GitError, OSError) as error:
        raise JobFailed(str(error)) from error
    Release.objects.filter(pk=release.pk).update(
        version=sha[:12], commit=sha, commit_message=subject, image=f"{app.image}:{sha}"
    )
    release.refresh_from_db()
    ctx.log(f"Commit {sha[:12]}: {subject}")
    return release


def build_servers(app: App, where: list[Placement]) -> tuple[Server, list[Server]]:
    """Who builds (the app's build server, else the first web server, else the first server)
    and who then gets the image."""
    servers = {p.server.pk: p.server for p in sorted(where, key=lambda p: not p.proxied)}
    builder = app.build_server or next(iter(servers.values()))
    return builder, [server for pk, server in servers.items() if pk != builder.pk]


def push_registry(app: App) -> str | None:
    """The registry the build pushes to (one with a login), else None: the image is then
    copied to the other servers."""
    registry = containers.registry_of(app.image)
    has_login = app.registry_username and app.registry_password
    return registry if registry and has_login else None


class Build:
    def __init__(
        self,
        ctx: JobContext,
        app: App,
        release: Release,
        builder: ssh.Target,
        others: list[ssh.Target],
        registry: str | None,
    ) -> None:
        self.ctx, self.app, self.release = ctx, app, release
        self.builder, self.others, self.registry = builder, others, registry
        self.secrets = build_secrets(app)

    @property
    def image(self) -> str:
        return self.release.image

    async def run(self) -> None:
        if await self.has_image(self.builder):
            self.ctx.log(f"{self.image} is built already; no build.")
        else:
            await self.build()
        if self.registry:
            password = self.app.registry_password.reveal()
            await ssh.run(
                self.builder,
                containers.login(self.registry, self.app.registry_username),
                stdin=password.encode(),
                log=self.ctx.log,
            )
            await ssh.run(
                self.builder, containers.push(self.image), log=self.ctx.log, timeout=BUILD_TIMEOUT
            )
        else:
            await self.copy_to_others()

    async def has_image(self, target: ssh.Target) -> bool:
        found = await ssh.run(target, containers.image_id(self.image), check=False)
        return found.ok

    async def build(self) -> None:
        archive = git.archive(self.app, self.release.commit)
        args = parse_build_args(self.app.build_args.reveal())
        secrets = {name: value.reveal() for name, value in self.secrets.items()}
        workdir = await self.write_build_files(args, secrets) if args or secrets else ""
        argv = containers.build(
            self.image,
            self.app.dockerfile,
            posixpath.join(workdir, "args.env") if args else "",
            sorted(args),
            {name: posixpath.join(workdir, f"secret-{name}") for name in secrets},
        )
        self.ctx.log(
            f"[{self.builder.name}] {shlex.join(argv)}  < git archive "
            f"{self.release.commit[:12]} ({len(archive) // 1024} KiB)",
            "cmd",
        )
        buildkit_missing = False
        try:
            async for _, line in ssh.stream(
                self.builder, argv, stdin=archive, terminal=False, timeout=BUILD_TIMEOUT
            ):
                buildkit_missing = buildkit_missing or "buildx component is missing" in line
                self.ctx.log(f"[{self.builder.name}] {line}", "out")
                self.ctx.check_cancelled()
        except ssh.CommandFailed as failed:
            hint = (
                f" Build secrets need BuildKit: install Docker's buildx plugin on "
                f"{self.builder.name} (Debian and Ubuntu: the docker-buildx package)."
                if buildkit_missing
                else ""
            )
            raise JobFailed(
                f"The build failed (exit {failed.result.exit_status}); the live release is "
                f"untouched.{hint}"
            ) from failed
        finally:
            if workdir:
                with contextlib.suppress(ssh.SshError):
                    await ssh.run(self.builder, ["rm", "-rf", "--", workdir], check=False)

    async def write_build_files(self, args: dict[str, str], secrets: dict[str, str]) -> str:
        """A private folder on the build server for this build's argument values and secrets,
        each file 0600; it is removed when the build ends."""
        home = await ssh.home_dir(self.builder)
        workdir = containers.build_dir(home, self.app.name)
        await ssh.run(
            self.builder,
            ["sh", "-c", 'rm -rf -- "$0" && mkdir -p -m 700 -- "$0"', workdir],
            log=self.ctx.log,
        )
        if args:
            await ssh.put(
                self.builder, posixpath.join(workdir, "args.env"), containers.env_file(args), 0o600
            )
        for name, value in secrets.items():
            await ssh.put(
                self.builder, posixpath.join(workdir, f"secret-{name}"), value.encode(), 0o600
            )
        return workdir

    async def copy_to_others(self) -> None:
        missing = [t for t in self.others if not await self.has_image(t)]
        if not missing:
            return
        saved = await ssh.run(
            self.builder,
            containers.save(self.image),
            keep_bytes=True,
            timeout=BUILD_TIMEOUT,
            log=self.ctx.log,
            log_output=False,
        )
        for target in missing:
            await ssh.run(
                target,
                containers.load(),
                stdin=saved.raw_stdout,
                timeout=BUILD_TIMEOUT,
                log=self.ctx.log,
            )
