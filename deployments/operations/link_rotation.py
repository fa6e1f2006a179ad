"""Rotating a link's password without refusing the app at any moment: the engine accepts a
new login (or a second password) beside the old one; the app is redeployed with it; from inside
the network of one of its new containers, the engine's own client connects with it; only then
is the old one retired. A failed redeploy or probe puts the old value back (it still works)."""

from __future__ import annotations

import asyncio
import secrets

from deployments import accessory_links, link_state, releases
from deployments.accessory_plans import LINK_STATEMENTS, plan_ask
from deployments.commands import containers
from deployments.commands.containers import LOAD_ENV_AND_RUN
from deployments.models import Accessory, AccessoryLink, App, Container
from deployments.operations.accessories import kind_of, locked, run_plan, users_of
from deployments.operations.deploy import deploy_release
from deployments.spec import host_of
from panel.audit import Actor
from panel.jobs.runner import JobContext, JobFailed
from servers.commands import host as host_commands
from servers.commands.host import panel_path
from servers.execute import StepRunner
from servers.plans import Phase, Put, Run, lane
from servers.targets import target_for

PROBE_CONTENT = "probe variables"


def rotate(ctx: JobContext) -> None:
    accessory = locked(ctx)
    engine = kind_of(accessory).engine
    row = AccessoryLink.objects.select_related("app__current_release", "team").get(
        pk=ctx.job.params["link_id"], accessory=accessory
    )
    app, actor = row.app, Actor.of_job(ctx.job)
    old_login, old_password = row.login or row.user, row.password.reveal()
    old_url = app.env.get(role="", key=row.variable).value.reveal()
    login, password = accessory_links.next_login(engine, row.user, old_login), _password()
    for secret in (password, old_password):
        ctx.add_secret(secret)
    address = link_state.address_of(accessory, app)
    if address is None:
        raise JobFailed(link_state.UNREACHABLE.format(app=app.name, accessory=accessory.name))
    others = users_of(accessory.links.exclude(pk=row.pk))
    accept = accessory_links.accept_statements(engine, row.database, row.user, login, password)
    both = accessory_links.redis_user_line(row.user, old_password, password)
    _ask(ctx, accessory, f"let {login} in with a new password", accept, (*others, both))
    host, port = address
    new_url = accessory_links.url(
        engine, user=login, password=password, host=host, port=port, database=row.database,
        number=row.number,
    )  # fmt: skip
    link_state.rotated(actor, row, login=login, password=password, url=new_url)
    try:
        if app.current_release is not None:
            deploy_release(ctx, releases.again(app, app.current_release, "redeploy", actor))
            _probe(ctx, accessory, row, login, password, address)
    except BaseException:
        link_state.rotated(
            actor, row, login=old_login, password=old_password, url=old_url, undone=True
        )
        ctx.log(f"{app.name} keeps its old {row.variable}, which still works.")
        raise
    retire = accessory_links.retire_statements(engine, row.user, old_login, old_password)
    only_new = accessory_links.redis_user_line(row.user, password)
    _ask(ctx, accessory, f"stop accepting the old password of {old_login}", retire,
         (*others, only_new))  # fmt: skip
    ctx.log(f"{app.name} uses its new password; the old one is no longer accepted.")


def _password() -> str:
    return secrets.token_urlsafe(24)


def _ask(
    ctx: JobContext, accessory: Accessory, title: str, statements: str, users: tuple[str, ...]
) -> None:
    kind = kind_of(accessory)
    redis = kind.engine == "redis"
    run_plan(
        ctx,
        accessory,
        lambda spec: plan_ask(spec, kind.client, title, config=redis),
        secrets={LINK_STATEMENTS: statements},
        users=users if redis else None,
    )


def _probe(
    ctx: JobContext,
    accessory: Accessory,
    row: AccessoryLink,
    login: str,
    password: str,
    address: tuple[str, int],
) -> None:
    """The engine's client, in the network of one of the app's new containers, connects with
    the new login: what the app itself now does."""
    live = App.objects.values_list("current_release", flat=True).get(pk=row.app_id)
    running = (
        Container.objects.filter(release=live, running=True)
        .select_related("server__ssh_key")
        .first()
    )
    if running is None:
        raise JobFailed(f"{row.app.name} has no running container to check the new password.")
    kind = kind_of(accessory)
    argv, variable = accessory_links.probe(
        kind.engine, kind.client[0], host=address[0], port=address[1], login=login,
        database=row.database,
    )  # fmt: skip
    server, path = running.server, panel_path("probes", f"{ctx.job.pk}.env")
    on = host_of(server)
    ask = ("sh", "-c", LOAD_ENV_AND_RUN, path, "docker", "run", "--rm", "--network",
           f"container:{running.name}", "--env", variable, "--entrypoint", argv[0],
           accessory.image, *argv[1:])  # fmt: skip
    steps = (
        Run(on, tuple(containers.pull(accessory.image)), "the client's image",
            unless=tuple(containers.image_id(accessory.image)), timeout=900),
        Run(on, tuple(host_commands.make_directory(panel_path("probes"))), "a folder for it"),
        Put(on, path, 0o600, PROBE_CONTENT, (variable,), "the new password for the check"),
        Run(on, ask, f"connect from inside {running.name} as {login}", timeout=60),
    )  # fmt: skip
    runner = StepRunner(
        {server.pk: target_for(server)},
        ctx.log,
        contents={PROBE_CONTENT: containers.env_file({variable: password})},
        check_cancelled=ctx.check_cancelled,
    )
    try:
        asyncio.run(runner.phase(Phase("Check the new password", (lane(*steps),))))
    finally:
        cleanup = Run(on, ("rm", "-f", path), "remove the check's file", check=False)
        asyncio.run(runner.phase(Phase("Clean up", (lane(cleanup),))))
