"""Link jobs: create a database and its user inside the engine and give an app its URL as a
secret variable; unlink takes the variable away, and drops the database and user when asked.
The statements reach the engine's client on stdin; the new password is masked in the log."""

from __future__ import annotations

import secrets

from deployments import accessory_links, link_state
from deployments.accessory_plans import LINK_STATEMENTS, plan_ask
from deployments.models import AccessoryLink, App
from deployments.operations.accessories import kind_of, locked, run_plan, users_of
from panel.audit import Actor
from panel.jobs.runner import JobContext, JobFailed


def link(ctx: JobContext) -> None:
    accessory = locked(ctx)
    kind = kind_of(accessory)
    params = ctx.job.params
    app = App.objects.get(pk=params["app_id"], team=accessory.team)
    address = link_state.address_of(accessory, app)
    if address is None:
        raise JobFailed(link_state.UNREACHABLE.format(app=app.name, accessory=accessory.name))
    password = secrets.token_urlsafe(24)
    ctx.add_secret(password)
    database, user, number = params["database"], params["user"], int(params.get("number", 0))
    statements = accessory_links.create_statements(kind.engine, database, user, password)
    redis = kind.engine == "redis"
    users = (*users_of(accessory.links.all()), accessory_links.redis_user_line(user, password))
    title = f"create the user {user}" + ("" if kind.engine == "redis" else f" and {database}")
    run_plan(
        ctx,
        accessory,
        lambda spec: plan_ask(spec, kind.client, title, config=redis),
        secrets={LINK_STATEMENTS: statements},
        users=users if redis else None,
    )
    host, port = address
    url = accessory_links.url(
        kind.engine,
        user=user,
        password=password,
        host=host,
        port=port,
        database=database,
        number=number,
    )
    link_state.linked(
        Actor.of_job(ctx.job),
        accessory,
        app,
        variable=params["variable"],
        database=database,
        user=user,
        number=number,
        password=password,
        url=url,
    )
    ctx.log(
        f"{app.name} has {params['variable']} (secret) for {host}:{port}. "
        f"Redeploy {app.name} to use it."
    )


def unlink(ctx: JobContext) -> None:
    accessory = locked(ctx)
    kind = kind_of(accessory)
    row = AccessoryLink.objects.select_related("app").get(
        pk=ctx.job.params["link_id"], accessory=accessory
    )
    drop = bool(ctx.job.params.get("drop"))
    redis = kind.engine == "redis"
    if drop or redis:
        statements = (
            accessory_links.drop_statements(kind.engine, row.database, row.user, row.number)
            if drop
            else accessory_links.redis_forget(row.user)
        )
        run_plan(
            ctx,
            accessory,
            lambda spec: plan_ask(spec, kind.client, f"drop the user {row.user}", config=redis),
            secrets={LINK_STATEMENTS: statements},
            users=users_of(accessory.links.exclude(pk=row.pk)) if redis else None,
        )
    link_state.forget(Actor.of_job(ctx.job), row, dropped=drop)
    kept = "its data and user are dropped" if drop else "its data is kept"
    ctx.log(f"{row.app.name} no longer has {row.variable}; {kept}. Redeploy it to apply.")
