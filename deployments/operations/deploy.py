"""The deploy job (Kamal's deploy), running the planner's plan: build, pull or copy, start,
health-check, switch every proxy, drain, stop the old.

Until the switch nothing the users see changes: any failure before it removes the new
containers and the old release keeps serving. The switch is recorded per server; if it fails
on one, every server that switched is pointed back, so all serve the old release or all the
new one. Redeploy, rollback and restart are this same job with an earlier release's image.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from deployments import git, releases
from deployments.commands import containers
from deployments.env import build_args, build_secrets, env_for_role, secret_values
from deployments.models import App, Release
from deployments.operations.prune import prune, prune_plan
from deployments.planner import (
    BUILD,
    BUILD_ARGS_CONTENT,
    DRAIN,
    POST_DEPLOY,
    REGISTRY_PASSWORD,
    STOP_PREVIOUS,
    SWITCH,
    BuildSpec,
    build_content,
    env_content,
    plan_deploy,
)
from deployments.spec import Image, deploy_spec, new_nonce, servers_of
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh
from servers.execute import RouteBefore, StepRunner
from servers.plans import Phase, Plan, PointRoute, Run
from servers.targets import target_for

AFTER_SWITCH = (DRAIN, STOP_PREVIOUS)
T = TypeVar("T")


def deploy(ctx: JobContext) -> None:
    deploy_release(
        ctx, Release.objects.select_related("app__team").get(pk=ctx.job.params["release"])
    )


def deploy_release(ctx: JobContext, release: Release) -> None:
    """Run a release's deploy in this job; a failure marks the release failed."""
    try:
        Deploy(ctx, release).run()
    except BaseException as error:
        releases.fail(release, Actor.of_job(ctx.job), str(error) or type(error).__name__)
        raise


class Deploy:
    def __init__(self, ctx: JobContext, release: Release) -> None:
        self.ctx, self.release, self.app = ctx, release, release.app
        self.actor = Actor.of_job(ctx.job)
        self.only = set(ctx.job.params.get("roles") or [])
        self.nonce = str(ctx.job.params.get("nonce") or new_nonce())
        self.started: dict[str, int] = {}  # container name → server id

    def run(self) -> None:
        app = self.app
        held = locks.acquire(app.lock_name, self.ctx.job.pk)
        if held is None:
            holder = locks.holder_of(app.lock_name)
            raise JobFailed(
                f"{app.name} is being deployed by job #{holder.pk if holder else '?'}; "
                "this deploy changed nothing."
            )
        for value in secret_values(app):
            self.ctx.add_secret(value)
        build_commit = self.resolve() if app.git_url and not self.release.commit else ""
        release = self.release
        image = Image(release.version, release.run_image, build_commit)
        spec = deploy_spec(app, image, nonce=self.nonce, only_roles=self.only or None)
        if not spec.placements:
            roles = ", ".join(sorted(self.only)) or "any role"
            raise JobFailed(f"{app.name} has no servers for {roles}.")
        plan = plan_deploy(spec)
        self.ctx.log(
            f"Deploying {app.name} {release.version} ({release.run_image}), lock fence {held.fence}"
        )
        if not self.only:  # a role deployed alone runs the live release again: status stays
            releases.start(release, self.ctx.job)
        runner = self.runner(spec.build)
        before, switch, after, post = _split(plan)
        self.until_switch(runner, before)
        if "digest" in runner.recorded:
            releases.record_digest(release, runner.recorded["digest"])
        if switch is not None:
            if not locks.is_current(held):
                self.clean_up(runner, set())
                raise JobFailed("The deploy lock was taken over; stopping before the switch.")
            previous = {
                p.host.id: p.previous[0] if p.previous else "" for p in spec.placements if p.proxied
            }
            self.switch(runner, switch, previous)
        replaced = [name for p in spec.placements for name in p.previous]
        releases.go_live(app, release, replaced, self.actor)
        self.ctx.log(f"{app.name} {release.version} is live.")
        try:
            for phase in after:
                asyncio.run(runner.phase(phase))
        except ssh.SshError as error:
            raise JobFailed(
                f"{error} The release is live; stopping the old containers failed."
            ) from error
        targets = list(runner.targets.values())
        asyncio.run(prune(self.ctx, app, prune_plan(App.objects.get(pk=app.pk)), targets))
        if post is not None:
            try:
                asyncio.run(runner.phase(post))
            except (JobFailed, ssh.SshError) as failure:
                raise JobFailed(
                    f"{failure} The release is live; the post-deploy command failed."
                ) from failure

    def resolve(self) -> str:
        """Fetch the repository and pin the release to a commit (a branch head or a given ref);
        returns the commit to build."""
        app, release = self.app, self.release
        ref = release.version or app.git_branch
        self.ctx.log(f"== Source: {app.git_url} at {ref}")
        learned = git.fetch(app)
        if learned:
            releases.trust_git_host_key(self.actor, app, learned)
            fingerprints = ", ".join(git.host_key_fingerprints(learned))
            self.ctx.log(f"Trusted the git host's key on first use: {fingerprints}")
        sha, subject = git.resolve(app, ref)
        self.release = releases.pin_commit(release, sha, subject, f"{app.image}:{sha}")
        self.ctx.log(f"Commit {sha[:12]}: {subject}")
        return sha

    def runner(self, build: BuildSpec | None) -> StepRunner:
        app = self.app
        contents = {
            env_content(role.name): containers.env_file(
                {key: value.reveal() for key, value in env_for_role(app, role.name).items()}
            )
            for role in app.roles.all()
        }
        if build is not None:
            contents[BUILD_ARGS_CONTENT] = containers.env_file(build_args(app))
            for name, value in build_secrets(app).items():
                contents[build_content(name)] = value.reveal().encode()

        async def record(step: Run) -> None:
            assert step.starts is not None
            self.started[step.starts.name] = step.host.id
            await asyncio.to_thread(
                releases.record_container,
                self.release,
                step.host.id,
                step.starts.role,
                step.starts.name,
            )

        return StepRunner(
            {server.pk: target_for(server) for server in servers_of(app)},
            self.ctx.log,
            secrets={REGISTRY_PASSWORD: app.registry_password},
            contents=contents,
            local_env=git.local_env(),
            check_cancelled=self.ctx.check_cancelled,
            on_start=record,
        )

    def until_switch(self, runner: StepRunner, phases: list[Phase]) -> None:
        try:
            for phase in phases:
                try:
                    asyncio.run(runner.phase(phase))
                except ssh.CommandFailed as failed:
                    if phase.title == BUILD:
                        raise _build_failed(failed) from failed
                    raise
        except BaseException:
            self.clean_up(runner, set())
            raise

    def switch(self, runner: StepRunner, phase: Phase, previous: dict[int, str]) -> None:
        """Point every web server's proxy at its new container. If it fails anywhere, point
        every one of them back, and say where that did not work."""
        steps = [step for lane in phase.lanes for step in lane if isinstance(step, PointRoute)]
        self.ctx.log(f"== {phase.title}", LogKind.INFO)
        read = asyncio.run(_gather([runner.route_before(step) for step in steps]))
        befores = [b for b in read if isinstance(b, RouteBefore)]
        if len(befores) != len(steps):
            self.clean_up(runner, set())
            raise _first_error(read)
        for step in steps:  # recorded first: a worker killed now leaves a record to undo
            releases.serving(self.app, step.host.id, step.upstream.rsplit(":", 1)[0])
        applying = [runner.apply_route(s, b) for s, b in zip(steps, befores, strict=True)]
        outcomes = asyncio.run(_gather(applying))
        failed = {
            step.host.name: outcome
            for step, outcome in zip(steps, outcomes, strict=True)
            if isinstance(outcome, BaseException)
        }
        if not failed:
            return
        for name, error in sorted(failed.items()):
            self.ctx.log(f"The switch failed on {name}: {error}", LogKind.ERROR)
        reverted = asyncio.run(_gather([runner.restore(before) for before in befores]))
        stuck = {
            before.host.name: outcome
            for before, outcome in zip(befores, reverted, strict=True)
            if isinstance(outcome, BaseException)
        }
        back = sorted({b.host.name for b in befores} - set(stuck))
        for before in befores:
            if before.host.name not in stuck:
                releases.serving(self.app, before.host.id, previous.get(before.host.id, ""))
        self.ctx.log(
            f"Pointed back at the previous release: {', '.join(back) or 'none'}.", LogKind.ERROR
        )
        releases.record_switch_revert(
            self.app,
            self.actor,
            {
                "failed": ", ".join(sorted(failed)),
                "pointed_back": ", ".join(back),
                "not_pointed_back": ", ".join(sorted(stuck)),
            },
        )
        self.clean_up(runner, {b.host.id for b in befores if b.host.name in stuck})
        first = next(iter(failed.values()))
        if stuck:
            raise JobFailed(
                f"The switch failed on {', '.join(sorted(failed))} ({first}); "
                f"{', '.join(sorted(stuck))} could not be pointed back and may still send "
                "traffic to the new release, whose containers are kept there. Deploy again or "
                "roll back once the server answers."
            )
        raise JobFailed(
            f"The switch failed on {', '.join(sorted(failed))} ({first}); "
            f"{', '.join(back)} point at the previous release again."
        )

    def clean_up(self, runner: StepRunner, keep_on: set[int]) -> None:
        """Remove the containers this deploy started (but where a route may still use them)."""
        doomed = {name: host for name, host in self.started.items() if host not in keep_on}
        if not doomed:
            return
        self.ctx.log(
            "Removing the new containers; the previous release keeps serving.", LogKind.ERROR
        )

        async def remove() -> None:
            await _gather(
                [
                    ssh.run(
                        runner.targets[host], containers.remove(name), check=False, log=self.ctx.log
                    )
                    for name, host in doomed.items()
                ]
            )

        try:
            asyncio.run(remove())
        finally:
            releases.forget_containers(list(doomed))


def _split(plan: Plan) -> tuple[list[Phase], Phase | None, list[Phase], Phase | None]:
    before: list[Phase] = []
    after: list[Phase] = []
    switch = post = None
    for phase in plan.phases:
        if phase.title == SWITCH:
            switch = phase
        elif phase.title.startswith(POST_DEPLOY):
            post = phase
        elif phase.title in AFTER_SWITCH:
            after.append(phase)
        else:
            before.append(phase)
    return before, switch, after, post


def _build_failed(failed: ssh.CommandFailed) -> JobFailed:
    output = failed.result.stdout + failed.result.stderr
    hint = (
        " Build secrets need BuildKit: install Docker's buildx plugin on the build server "
        "(Debian and Ubuntu: the docker-buildx package)."
        if "buildx component is missing" in output
        else ""
    )
    return JobFailed(
        f"The build failed (exit {failed.result.exit_status}); the live release is untouched.{hint}"
    )


async def _gather(work: Sequence[Awaitable[T]]) -> list[T | BaseException]:
    return list(await asyncio.gather(*work, return_exceptions=True))


def _first_error(results: Sequence[object]) -> BaseException:
    return next(r for r in results if isinstance(r, BaseException))
