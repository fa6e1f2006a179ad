from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from panel.api.auth import ApiError, api_view, require_api
from panel.jobs.log import line_payload
from panel.models import Job
from panel.permissions import Action, get_for
from panel.requests import ApiRequest

MAX_LINES = 1000


@api_view(("GET",))
def job_status(request: ApiRequest, job_id: int) -> HttpResponse:
    job = get_for(request.user, Job.objects.all(), job_id)
    require_api(request, job.team_id, Action.VIEW)
    try:
        after = int(request.GET.get("after", "-1"))
    except ValueError as failure:
        raise ApiError(400, "`after` is a line number.") from failure
    rows = list(job.log_lines.filter(seq__gt=after).order_by("seq")[:MAX_LINES])
    return JsonResponse(
        {
            "id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "target": job.target_label,
            "error": job.error,
            "created_at": job.created_at.isoformat(),
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "lines": [line_payload(row) for row in rows],
            "next_after": rows[-1].seq if rows else after,
        }
    )
