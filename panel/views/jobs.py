from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from panel import live
from panel.jobs import services
from panel.jobs.log import channel_name
from panel.models import Job, JobLogLine, JobStatus
from panel.pages import page_of
from panel.permissions import Action, get_for
from panel.requests import actor_of, current_team
from panel.tasks import job_log_cutoff

KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 0.1  # without Redis, how often a follower asks the database


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    jobs = Job.objects.filter(team=team) if team else Job.objects.none()
    return render(request, "panel/job_list.html", page_of(request, jobs))


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_for(request.user, Job.objects.select_related("team"), job_id)
    lines = list(job.log_lines.all())
    cutoff = job_log_cutoff()
    log_removed = not lines and bool(cutoff and job.finished_at and job.finished_at < cutoff)
    return render(
        request,
        "panel/job_detail.html",
        {
            "job": job,
            "lines": lines,
            "last_seq": lines[-1].seq if lines else -1,
            "log_removed": log_removed,
            "log_days": settings.PANEL_JOB_LOG_DAYS,
        },
    )


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_for(request.user, Job.objects.select_related("team"), job_id, Action.CANCEL_JOB)
    outcome = services.cancel(job, actor_of(request))
    if outcome == "not active":
        messages.info(request, "The job had already ended.")
    else:
        messages.success(request, f"Job #{job.pk}: {outcome}.")
    return redirect("job_detail", job_id=job.pk)


async def job_stream(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """Server-sent events: the stored lines after the client's cursor, then new ones live."""
    user = await request.auser()
    if not user.is_authenticated:
        return HttpResponse("Sign in first.", status=401, content_type="text/plain")
    job = await sync_to_async(get_for)(user, Job.objects.all(), job_id)
    cursor = _cursor(request.headers.get("Last-Event-ID") or request.GET.get("after"))
    response = StreamingHttpResponse(
        follow(job.pk, cursor), content_type="text/event-stream; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


async def follow(job_id: int, cursor: int) -> AsyncIterator[str]:
    """Replay from the database, then wake on Redis messages (or poll) until the job ends."""
    wake = _RedisWake(job_id) if settings.REDIS_URL else None
    if wake is not None:
        await wake.subscribe()
    try:
        yield "retry: 2000\n\n"
        idle, shown = 0.0, ""
        while True:
            lines, standing, active = await _lines_after(job_id, cursor)
            if active and standing != shown:  # queued → running
                shown = standing
                yield live.event("status", standing)
            for row in lines:
                cursor = row.seq
                html = live.log_line(row.text, kind=row.kind, seq=row.seq, at=row.at)
                yield live.event("line", html, cursor)
            if not active and not lines:
                yield live.event("end", standing)
                return
            if lines:
                idle = 0.0
                continue
            waited = await wake.wait(POLL_SECONDS * 8) if wake else await _sleep(POLL_SECONDS)
            idle += waited
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield ": keepalive\n\n"
    finally:
        if wake is not None:
            await wake.close()


@sync_to_async
def _lines_after(job_id: int, cursor: int) -> tuple[list[JobLogLine], str, bool]:
    """Lines after the cursor, how the job stands (its status, error and end, as the page
    shows them) and whether it is still running."""
    job = Job.objects.only("status", "error", "kind", "params").get(pk=job_id)
    rows = list(JobLogLine.objects.filter(job_id=job_id, seq__gt=cursor).order_by("seq")[:500])
    standing = render_to_string("panel/_job_status.html", {"job": job})
    if job.status == JobStatus.WAITING:  # what it waits for, fetched with the page's form
        standing += render_to_string("panel/_job_waiting.html", {"job": job})
    if not job.is_active:  # the page's error, its live note and its cancel button too
        standing += render_to_string("panel/_job_ended.html", {"job": job})
    return rows, standing, job.is_active


async def _sleep(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


class _RedisWake:
    def __init__(self, job_id: int) -> None:
        self.client = aioredis.Redis.from_url(settings.REDIS_URL)
        self.pubsub = self.client.pubsub()
        self.channel = channel_name(job_id)

    async def subscribe(self) -> None:
        await self.pubsub.subscribe(self.channel)

    async def wait(self, timeout: float) -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        except Exception:  # Redis went away: keep following by polling
            await asyncio.sleep(POLL_SECONDS)
        return loop.time() - started

    async def close(self) -> None:
        await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        await self.client.aclose()


def _cursor(raw: str | None) -> int:
    try:
        return max(-1, int(raw)) if raw is not None else -1
    except ValueError:
        return -1
