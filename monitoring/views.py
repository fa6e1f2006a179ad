"""A server's health and charts; alerts (open, acknowledged, silenced, resolved) and the
channels that carry them."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from deployments.models import App
from monitoring import services, state
from monitoring.charts import svg
from monitoring.conditions import DEFAULTS, MEANINGS
from monitoring.forms import ChannelForm, IntervalForm, RuleForm, UptimeForm
from monitoring.models import (
    Alert,
    AlertKind,
    AlertRule,
    Channel,
    Delivery,
    HostEvent,
    HostHealth,
    Notification,
    UptimeCheck,
)
from monitoring.series import APP_CHARTS, APP_RANGES, CHARTS, RANGES, app_series, series
from panel.permissions import Action, get_for, require
from panel.requests import actor_of, team_of
from servers.models import Server


@login_required
def server_health(request: HttpRequest, server_id: int) -> HttpResponse:
    """A server's charts over a range, its state as the last round saw it, its timeline."""
    server = get_for(request.user, Server.objects.select_related("team"), server_id)
    span = request.GET.get("range", "24h")
    span = span if span in RANGES else "24h"
    now = timezone.now()
    points = series(server.pk, span, now)
    health = HostHealth.objects.filter(server=server).first()
    charts = [svg(points[field], title, unit, top) for field, _, title, unit, top in CHARTS]
    return render(request, "monitoring/server_health.html", {
        "server": server,
        "health": health,
        "containers": sorted(  # running ones first: a host keeps many stopped ones
            health.latest.get("containers", []) if health else [],
            key=lambda c: (c.get("state") != "running", c.get("name", "")),
        ),
        "charts": charts,
        "span": span,
        "spans": list(RANGES),
        "events": HostEvent.objects.filter(server=server)[:20],
        "interval_form": IntervalForm(
            initial={"interval_seconds": health.interval_seconds if health else 30}
        ),
        "alerts": Alert.objects.filter(server=server, resolved_at=None),
    })  # fmt: skip


@login_required
@require_POST
def server_interval(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_for(request.user, Server.objects.select_related("team"), server_id,
                     Action.MANAGE_SERVERS)  # fmt: skip
    form = IntervalForm(request.POST)
    if form.is_valid():
        seconds = form.cleaned_data["interval_seconds"]
        services.set_interval(actor_of(request), server, seconds)
        messages.success(request, f"{server.name} is collected every {seconds} s from now on.")
    else:
        messages.error(request, "Collect every 10 to 3600 seconds.")
    return redirect("server_health", server_id=server.pk)


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    alerts = Alert.objects.filter(team=team).select_related("server", "acknowledged_by")
    opened = alerts.filter(resolved_at=None).annotate(
        sent=Count("notifications", filter=Q(notifications__status=Delivery.SENT)),
        tried=Count("notifications"),
    )
    now = timezone.now()
    stopped, last_round = state.rounds_stopped(now)
    return render(request, "monitoring/alert_list.html", {
        "opened": opened,
        "resolved": alerts.exclude(resolved_at=None)[:50],
        "last_round": last_round,
        "rounds_stopped": stopped,
        "now": now,
    })  # fmt: skip


def _alert(request: HttpRequest, alert_id: int) -> Alert:
    team = team_of(request)
    require(request.user, team, Action.ACKNOWLEDGE_ALERTS)
    return get_object_or_404(Alert, pk=alert_id, team=team)


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert(request, alert_id)
    services.acknowledge(actor_of(request), alert)
    messages.success(request, f"“{alert.title}” is acknowledged.")
    return redirect("alert_list")


@login_required
@require_POST
def alert_silence(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert(request, alert_id)
    try:
        services.silence(actor_of(request), alert, request.POST.get("span", ""))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"“{alert.title}” is silenced; it notifies nobody until then.")
    return redirect("alert_list")


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    form = ChannelForm(request.POST or None, team=team)
    if request.method == "POST":
        require(request.user, team, Action.MANAGE_ALERTS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.create_channel(actor_of(request), team, name=data["name"],
                                        url=data["url"].strip(), kinds=data["kinds"],
                                        deploys=data["deploys"])  # fmt: skip
            except ValidationError as error:
                form.add_error("url", error.messages[0])
            else:
                messages.success(request, f"{data['name']} is added. Send it a test.")
                return redirect("channel_list")
    channels = Channel.objects.filter(team=team)
    recent = Notification.objects.filter(channel__team=team).select_related("channel")[:30]
    return render(request, "monitoring/channel_list.html",
                  {"form": form, "channels": channels, "recent": recent})  # fmt: skip


def _channel(request: HttpRequest, channel_id: str) -> Channel:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_ALERTS)
    return get_object_or_404(Channel.objects.select_related("team"), pk=channel_id, team=team)


@login_required
@require_POST
def channel_test(request: HttpRequest, channel_id: str) -> HttpResponse:
    channel = _channel(request, channel_id)
    sent = services.send_test(actor_of(request), channel)
    if sent.status == Delivery.SENT:
        messages.success(request, f"The test went out through {channel.name}.")
    else:
        messages.error(request, f"{channel.name} did not take it: {sent.last_error} "
                                "It is tried again shortly.")  # fmt: skip
    return redirect("channel_list")


@login_required
@require_POST
def channel_remove(request: HttpRequest, channel_id: str) -> HttpResponse:
    channel = _channel(request, channel_id)
    services.remove_channel(actor_of(request), channel)
    messages.success(request, f"{channel.name} is removed.")
    return redirect("channel_list")


@login_required
def uptime_list(request: HttpRequest) -> HttpResponse:
    """Every uptime check with its last answer and its uptime over 90 days; admins add one."""
    team = team_of(request)
    form = UptimeForm(request.POST or None)
    if request.method == "POST":
        require(request.user, team, Action.MANAGE_ALERTS)
        if form.is_valid():
            try:
                services.add_check(actor_of(request), team, form.cleaned_data["url"])
            except ValidationError as error:
                form.add_error("url", error.messages[0])
            else:
                messages.success(request, "The check is added; it is asked within a minute.")
                return redirect("uptime_list")
    since = timezone.now() - timedelta(days=90)
    checks = (
        UptimeCheck.objects.filter(team=team)
        .select_related("app")
        .annotate(
            asked=Count("results", filter=Q(results__at__gte=since)),
            answered=Count("results", filter=Q(results__at__gte=since, results__ok=True)),
        )
    )
    return render(request, "monitoring/uptime_list.html", {"checks": checks, "form": form})


@login_required
@require_POST
def uptime_remove(request: HttpRequest, check_id: str) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_ALERTS)
    check = get_object_or_404(UptimeCheck.objects.select_related("team"), pk=check_id, team=team)
    try:
        services.remove_check(actor_of(request), check)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"The check of {check.url} is removed.")
    return redirect("uptime_list")


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    """Every kind of alert with what the team set (or the default), each server's own rules,
    and (admins) a form to set one."""
    team = team_of(request)
    form = RuleForm(request.POST or None, team=team)
    if request.method == "POST":
        require(request.user, team, Action.MANAGE_ALERTS)
        if form.is_valid():
            data = form.cleaned_data
            services.set_rule(actor_of(request), team, kind=data["kind"], server=data["server"],
                              threshold=data["threshold"], minutes=data["minutes"],
                              enabled=data["enabled"])  # fmt: skip
            messages.success(request, "The rule is set; the next round uses it.")
            return redirect("rule_list")
    rules = AlertRule.objects.filter(team=team).select_related("server")
    own = {rule.kind: rule for rule in rules if rule.server_id is None}
    rows = [
        {"kind": kind, "rule": own.get(kind.value) or DEFAULTS[kind], "set": kind.value in own,
         "means": MEANINGS[kind]}
        for kind in AlertKind
    ]  # fmt: skip
    return render(request, "monitoring/rule_list.html", {
        "form": form, "rows": rows,
        "servers_own": [rule for rule in rules if rule.server_id is not None],
    })  # fmt: skip


@login_required
@require_POST
def rule_remove(request: HttpRequest, rule_id: int) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_ALERTS)
    rule = get_object_or_404(AlertRule.objects.select_related("server"), pk=rule_id, team=team)
    services.remove_rule(actor_of(request), rule)
    messages.success(request, "The rule is removed: the default applies again.")
    return redirect("rule_list")


@login_required
def app_resources(request: HttpRequest, app_id: str) -> HttpResponse:
    """A part of the app's page: its containers' CPU and memory over an hour or a day, and
    each running container as the last round saw it (restarts, health)."""
    app = get_for(request.user, App.objects.select_related("team"), app_id)
    span = request.GET.get("range", "24h")
    span = span if span in APP_RANGES else "24h"
    server_ids = list(app.roles.values_list("servers", flat=True).exclude(servers=None))
    points = app_series(app.name, server_ids, span, timezone.now())
    charts = [svg(points[field], title, unit, None) for field, title, unit, _ in APP_CHARTS]
    now_running = [
        {**container, "server": health.server.name}
        for health in HostHealth.objects.filter(server__in=server_ids).select_related("server")
        for container in health.latest.get("containers", [])
        if container.get("app") == app.name and container.get("state") != "exited"
    ]
    return render(request, "monitoring/_app_resources.html", {
        "app": app, "charts": charts, "span": span, "spans": APP_RANGES,
        "containers": now_running,
    })  # fmt: skip
