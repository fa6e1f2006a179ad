from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from backups.models import Verification
from deployments.models import App
from monitoring import overview
from monitoring import state as monitoring_state
from monitoring.models import Alert, Delivery
from panel.models import AuditEvent, Job
from panel.permissions import teams_of
from panel.requests import SESSION_TEAM_KEY, asked_by_htmx, current_team
from servers.models import HostKeyState, Server


@require_GET
def up(request: HttpRequest) -> HttpResponse:
    """200 while the database answers; proxies and compose use it as the health check."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    team = current_team(request)
    if team is None:
        return render(request, "panel/no_team.html")
    jobs = Job.objects.filter(team=team)[:10]
    events = AuditEvent.objects.filter(team=team)[:10]
    servers = Server.objects.filter(team=team).aggregate(
        total=Count("id"),
        reachable=Count("id", filter=Q(reachable=True)),
        changed=Count("id", filter=Q(host_key_state=HostKeyState.CHANGED)),
        security=Count("id", filter=Q(updates__security__gt=0)),
        reboot=Count("id", filter=Q(updates__reboot_required=True)),
    )
    apps = App.objects.filter(team=team).aggregate(
        total=Count("id"),
        live=Count("id", filter=Q(current_release__isnull=False)),
    )
    verifications = Verification.objects.filter(team=team).select_related("accessory")
    latest_of_its_accessory = Verification.objects.filter(accessory=OuterRef("accessory")).values(
        "pk"
    )[:1]
    opened = Alert.objects.filter(team=team, resolved_at=None)
    stopped, last_round = monitoring_state.rounds_stopped(timezone.now())
    context = {
        "alerts": opened.count(),
        # Open alerts no channel has taken: someone must look here to know.
        "undelivered": opened.filter(notifications__isnull=False)
        .exclude(notifications__status=Delivery.SENT)
        .distinct()
        .count(),
        "rounds_stopped": stopped,
        "last_round": last_round,
        "jobs": jobs,
        "events": events,
        "servers": servers,
        "apps": apps,
        "verified": verifications.filter(passed=True).first(),
        "failed_verification": verifications.filter(
            pk=Subquery(latest_of_its_accessory), passed=False
        ).first(),
        "tiles": overview.tiles(team),
    }
    if asked_by_htmx(request):  # the page polls the part that changes
        return render(request, "panel/_dashboard_live.html", context)
    return render(request, "panel/dashboard.html", context)


@login_required
@require_POST
def switch_team(request: HttpRequest) -> HttpResponse:
    team = get_object_or_404(teams_of(request.user), pk=request.POST.get("team") or 0)
    request.session[SESSION_TEAM_KEY] = team.pk
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    return redirect(target if safe and target else "dashboard")
