"""Kamal in and out: paste a config/deploy.yml, review what it becomes, fill in its secrets,
create; and any app written back as a Kamal configuration."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from deployments import kamal_forms, kamal_services
from deployments.kamal import export
from deployments.kamal.loading import KamalError
from deployments.models import App
from panel import pending_secrets
from panel.permissions import Action, get_for, require
from panel.requests import actor_of, team_of

# What was pasted (a deploy.yml may hold a password) stays on the server between the pages,
# encrypted in the session; never in a hidden field.
CARRIED = "kamal:import"


@login_required
@never_cache
def kamal_import(request: HttpRequest) -> HttpResponse:
    team = team_of(request)
    require(request.user, team, Action.MANAGE_APPS)
    require(request.user, team, Action.MANAGE_SERVERS)
    if "review" in request.POST:  # a new paste: nothing from an earlier one is carried
        pending_secrets.forget(request, CARRIED)
    data, _ = pending_secrets.carry(request, CARRIED, ("deploy", "destination"))
    source = kamal_forms.KamalSourceForm(data if request.method == "POST" else None)
    if request.method != "POST" or not source.is_valid():
        return render(request, "deployments/kamal_import.html", {"source": source})
    try:
        texts = source.cleaned_data
        plan, _ = kamal_forms.read(texts["deploy"], texts["destination"])
    except KamalError as refused:
        source.add_error("deploy", str(refused))
        return render(request, "deployments/kamal_import.html", {"source": source})
    creating = "create" in request.POST
    typed = [f"secret_{needed.name}" for needed in plan.review.secrets]
    data, _ = pending_secrets.carry(request, CARRIED, ("deploy", "destination", "dotenv", *typed))
    secrets = kamal_forms.KamalSecretsForm(data if creating else None, team=team, plan=plan)
    problems: list[str] = []
    if creating and secrets.is_valid():
        values = secrets.values()
        try:
            checked, fields, roles = kamal_forms.check(
                team, plan, values, secrets.cleaned_data["ssh_key"]
            )
        except kamal_forms.ImportRefused as refused:
            problems = refused.problems
        else:
            app = kamal_services.import_app(
                actor_of(request), team, checked, fields=fields, roles=roles, secrets=values,
                ssh_key=secrets.cleaned_data["ssh_key"],
            )  # fmt: skip
            messages.success(
                request,
                f"{app.name} is imported. Confirm the host keys of any new servers, then deploy.",
            )
            pending_secrets.forget(request, CARRIED)
            return redirect("app_detail", app_id=app.pk)
    context = {"source": source, "plan": plan, "review": plan.review, "secrets": secrets,
               "problems": problems}  # fmt: skip
    return render(request, "deployments/kamal_review.html", context)


@login_required
def kamal_export(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, App.objects.select_related("team"), app_id, Action.MANAGE_APPS)
    deploy, template = export.export(app)
    wanted = request.GET.get("download")
    if wanted in ("deploy", "secrets"):
        response = HttpResponse(
            deploy if wanted == "deploy" else template, content_type="text/plain; charset=utf-8"
        )
        filename = "deploy.yml" if wanted == "deploy" else "secrets"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    context = {"app": app, "deploy": deploy, "template": template}
    return render(request, "deployments/kamal_export.html", context)
