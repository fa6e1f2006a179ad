"""An app's webhook: its settings and deliveries, and the endpoint providers post to."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from deployments import webhook_services
from deployments.models import App, DeliveryResult, Webhook
from deployments.webhook_forms import WebhookForm
from panel.permissions import Action, get_for, require
from panel.requests import actor_of

MAX_BODY_BYTES = 25 * 1024 * 1024
APPS = App.objects.select_related("team")


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest, webhook_id: uuid.UUID) -> HttpResponse:
    announced = request.META.get("CONTENT_LENGTH") or "0"
    if not announced.isdigit() or int(announced) > MAX_BODY_BYTES:
        return _plain(413, "The body is larger than 25 MB.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _plain(413, "The body is larger than 25 MB.")
    headers = {name.lower(): value for name, value in request.headers.items()}
    answer = webhook_services.receive(str(webhook_id), headers, body)
    return _plain(answer.status, answer.text)


@login_required
@never_cache
def app_webhook(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id)
    webhook = Webhook.objects.filter(app=app).first()
    form = _form(app, webhook, request.POST or None)
    secret = ""
    if request.method == "POST":
        require(request.user, app.team_id, Action.MANAGE_APPS)
        if not app.git_url:
            messages.error(
                request, f"{app.name} deploys a ready image: a push has nothing to build."
            )
            return redirect("app_webhook", app_id=app.pk)
        if form.is_valid():
            secret = webhook_services.set_up(actor_of(request), app, **form.cleaned_data)
            if not secret:
                messages.success(request, "The webhook's settings are saved.")
                return redirect("app_webhook", app_id=app.pk)
            webhook = Webhook.objects.get(app=app)
    return _page(request, app, webhook, form, secret)


@login_required
@never_cache
@require_POST
def app_webhook_secret(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.MANAGE_APPS)
    webhook = Webhook.objects.filter(app=app).first()
    if webhook is None:
        return redirect("app_webhook", app_id=app.pk)
    secret = webhook_services.replace_secret(actor_of(request), webhook)
    return _page(request, app, webhook, _form(app, webhook, None), secret)


@login_required
@require_POST
def app_webhook_remove(request: HttpRequest, app_id: str) -> HttpResponse:
    app = get_for(request.user, APPS, app_id, Action.MANAGE_APPS)
    webhook = Webhook.objects.filter(app=app).first()
    if webhook is not None:
        webhook_services.remove(actor_of(request), webhook)
        messages.success(request, "The webhook is removed; its URL answers 404 from now on.")
    return redirect("app_webhook", app_id=app.pk)


def _form(app: App, webhook: Webhook | None, data: QueryDict | None) -> WebhookForm:
    """The settings form, showing the webhook's settings, or the app's branch for a new one."""
    if webhook is None:
        return WebhookForm(data, initial={"branch": app.git_branch or "main"})
    fields = {"provider": webhook.provider, "branch": webhook.branch}
    return WebhookForm(data, initial={**fields, "tag_pattern": webhook.tag_pattern})


def _page(
    request: HttpRequest, app: App, webhook: Webhook | None, form: WebhookForm, secret: str
) -> HttpResponse:
    deliveries = webhook.deliveries.select_related("job", "replaced_by")[:50] if webhook else []
    url = (
        f"{settings.PANEL_BASE_URL}{reverse('webhook_receive', args=[webhook.pk])}"
        if webhook
        else ""
    )
    context = {
        "app": app,
        "webhook": webhook,
        "form": form,
        "secret": secret,
        "url": url,
        "deliveries": deliveries,
        "queued": [d for d in deliveries if d.result == DeliveryResult.QUEUED],
    }
    return render(request, "deployments/app_webhook.html", context)


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain; charset=utf-8")
