from __future__ import annotations

import csv
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from panel.forms import AuditFilterForm
from panel.jobs import services
from panel.models import AuditEvent, JobKind, Team
from panel.pages import page_of
from panel.permissions import Action, require
from panel.requests import actor_of, team_of
from panel.tasks import verify_audit_chain

EXPORT_FIELDS = (
    "id",
    "at",
    "team_label",
    "actor_type",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "ip",
    "details",
    "hash",
)


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    form = AuditFilterForm(request.GET or None)
    events = filtered_events(team, form)
    return render(request, "panel/audit_list.html", {"form": form, **page_of(request, events)})


@login_required
def audit_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    team = team_of(request)
    require(request.user, team, Action.EXPORT_AUDIT)
    return export(team, filtered_events(team, AuditFilterForm(request.GET or None)), fmt)


def export(team: Team, events: QuerySet[AuditEvent], fmt: str) -> StreamingHttpResponse:
    """The events as a CSV or JSON download, oldest first, streamed."""
    rows = (_export_row(event) for event in events.order_by("id").iterator(chunk_size=2000))
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv")
    elif fmt == "json":
        response = StreamingHttpResponse(_json_lines(rows), content_type="application/json")
    else:
        raise Http404("Unknown format.")
    response["Content-Disposition"] = f'attachment; filename="audit-{team.slug}.{fmt}"'
    return response


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.EXPORT_AUDIT)
    job = services.enqueue(
        kind=JobKind.AUDIT_VERIFY,
        team=team,
        actor=actor_of(request),
        task=verify_audit_chain,
        target_label="audit chain",
    )
    messages.success(request, "Verifying the audit chain.")
    return redirect("job_detail", job_id=job.pk)


def filtered_events(team: Any, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(team=team)
    if not form.is_bound or not form.is_valid():
        return events
    data = form.cleaned_data
    if data["actor"]:
        events = events.filter(actor_label__icontains=data["actor"])
    if data["action"]:
        events = events.filter(action__startswith=data["action"])
    if data["target"]:
        events = events.filter(target_label__icontains=data["target"])
    if data["since"]:
        events = events.filter(at__gte=data["since"])
    if data["until"]:
        events = events.filter(at__lte=data["until"])
    return events


def _export_row(event: AuditEvent) -> dict[str, Any]:
    row = {field: getattr(event, field) for field in EXPORT_FIELDS}
    row["at"] = event.at.isoformat()
    return row


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Any) -> Any:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for row in rows:
        row["details"] = json.dumps(row["details"], sort_keys=True)
        yield writer.writerow([_csv_safe(row[field]) for field in EXPORT_FIELDS])


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _json_lines(rows: Any) -> Any:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps(row, default=str)
    yield "]"
