"""Live tail of an app's containers on all its servers, as server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from deployments.commands import accessories, containers
from deployments.models import Accessory, App, Container
from panel import live
from panel.permissions import Action, get_for
from servers import ssh
from servers.targets import target_for

TAIL_LINES = 100
KEEPALIVE_SECONDS = 15.0


async def app_logs_stream(request: HttpRequest, app_id: str) -> HttpResponseBase:
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse("Sign in first.", status=401, content_type="text/plain")
    return streaming(await sync_to_async(_sources)(user, app_id))


async def accessory_logs_stream(request: HttpRequest, accessory_id: str) -> HttpResponseBase:
    """Its container's log, live; for deployers and up, like an app's."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse("Sign in first.", status=401, content_type="text/plain")
    return streaming(await sync_to_async(_accessory_source)(user, accessory_id))


Source = tuple[str, ssh.Target, list[str]]  # a prefix for its lines, where, what to follow
Render = Callable[[str, str], str]  # a line and its source → an event's data


def _as_html(text: str, source: str) -> str:
    return live.log_line(text, source=source)


def as_json(text: str, source: str) -> str:
    """For the API: `{"text": …, "source": "server/role"}`."""
    return json.dumps({"text": text, "source": source})


def streaming(sources: list[Source], render: Render | None = None) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        follow(sources, render=render or _as_html), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def _accessory_source(user: object, accessory_id: str) -> list[Source]:
    accessory = get_for(
        user, Accessory.objects.select_related("team", "server__ssh_key"), accessory_id,
        Action.DEPLOY,
    )  # fmt: skip
    if not accessory.server.is_trusted:
        return []
    argv = containers.follow_logs(accessories.container(accessory.name), TAIL_LINES)
    return [(accessory.server.name, target_for(accessory.server), argv)]


def _sources(user: object, app_id: str) -> list[Source]:
    return app_sources(get_for(user, App.objects.select_related("team"), app_id))


def app_sources(app: App) -> list[Source]:
    """Each running container of the app's live release, on a trusted server."""
    rows = (
        Container.objects.filter(release=app.current_release, running=True).select_related(
            "server__ssh_key"
        )
        if app.current_release_id
        else []
    )
    return [
        (
            f"{row.server.name}/{row.role}",
            target_for(row.server),
            containers.follow_logs(row.name, TAIL_LINES),
        )
        for row in rows
        if row.server.is_trusted
    ]


async def follow(
    sources: list[Source], idle: str = "No running containers.", render: Render = _as_html
) -> AsyncIterator[str]:
    """Merge what each source prints as it goes (`docker logs -f`, a host's journal…);
    closing the response closes every channel."""
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=1000)

    async def tail(prefix: str, target: ssh.Target, argv: list[str]) -> None:
        stream = ssh.stream(target, argv)
        try:
            async for _, line in stream:
                await queue.put((prefix, line))
        except ssh.SshError as error:
            await queue.put((prefix, f"[log stream ended: {error}]"))
        finally:
            await stream.aclose()

    tasks = [asyncio.create_task(tail(*source)) for source in sources]
    try:
        yield "retry: 3000\n\n"
        if not tasks:
            yield live.event("line", render(idle, ""))
            return
        while True:
            try:
                prefix, line = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            yield live.event("line", render(line, prefix))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
