"""Git-push webhooks: set one up (audited), and receive a delivery: verify it before anything
else and store it once, then answer. A task takes each stored push: it deploys its commit, or
queues it behind the app's running job, where the newest waiting push replaces older ones."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app, shared_task
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from deployments.models import App, DeliveryResult, Webhook, WebhookDelivery
from deployments.services import DeployRefused, start_deploy
from deployments.webhook_payloads import BadPayload, Delivery, read, shown_headers, why_not_deployed
from deployments.webhook_signatures import Provider, Refused, new_secret, verify
from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Job
from panel.models.audit import ActorType
from panel.models.jobs import ACTIVE_STATUSES

logger = logging.getLogger(__name__)
TAKE_PUSH = "deployments.take_push"
# A received push not taken within this time (its message lost) is taken by the minute tick.
RECEIVED_GRACE_SECONDS = 30


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


def set_up(actor: Actor, app: App, *, provider: str, branch: str, tag_pattern: str) -> str:
    """Create the app's webhook or change its settings; a new webhook's secret is returned
    (to be shown once), a changed one keeps its secret and returns ""."""
    with transaction.atomic():
        webhook = Webhook.objects.filter(app=app).first()
        secret = "" if webhook else new_secret()
        before = audit.values_of(webhook, ["provider", "branch", "tag_pattern"])
        if webhook is None:
            webhook = Webhook(team=app.team, app=app, secret=secret)
        webhook.provider, webhook.branch, webhook.tag_pattern = provider, branch, tag_pattern
        webhook.save()
        audit.record(
            actor,
            AuditAction.APP_WEBHOOK_SET,
            team=app.team,
            target=app,
            details={
                "provider": provider,
                "branch": branch,
                "tag_pattern": tag_pattern,
                **audit.diff(
                    before, {"provider": provider, "branch": branch, "tag_pattern": tag_pattern}
                ),
            },
        )
    return secret


def replace_secret(actor: Actor, webhook: Webhook) -> str:
    secret = new_secret()
    with transaction.atomic():
        webhook.secret = secret
        webhook.save(update_fields=["secret"])
        audit.record(
            actor, AuditAction.APP_WEBHOOK_SECRET, team=webhook.app.team, target=webhook.app
        )
    return secret


def remove(actor: Actor, webhook: Webhook) -> None:
    with transaction.atomic():
        webhook.delete()
        audit.record(
            actor, AuditAction.APP_WEBHOOK_REMOVE, team=webhook.app.team, target=webhook.app
        )


def receive(webhook_id: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """Answer one delivery once it is stored; `take_push` starts its deploy. `headers` in
    lower case."""
    webhook = Webhook.objects.select_related("app__team").filter(pk=webhook_id).first()
    if webhook is None:
        return Answer(404, "No such webhook.")
    try:
        verify(Provider(webhook.provider), webhook.secret.reveal(), headers, body, time.time())
    except Refused as refused:
        _count_refusal(webhook, str(refused))
        return Answer(401, f"Refused: {refused}")
    try:
        delivery = read(Provider(webhook.provider), headers, body)
    except BadPayload as bad:
        return Answer(400, str(bad))
    earlier = _earlier(webhook, delivery)
    if earlier is not None:
        return Answer(200, f"Already received ({earlier.get_result_display().lower()}).")
    if delivery.is_ping:
        return _store(webhook, delivery, headers, DeliveryResult.PING, "", 200, "pong")
    if not delivery.is_push:
        reason = f"{delivery.event} is not a push."
        return _store(webhook, delivery, headers, DeliveryResult.IGNORED, reason, 202, reason)
    reason = why_not_deployed(webhook.branch, webhook.tag_pattern, delivery.ref, delivery.commit)
    if reason:
        return _store(webhook, delivery, headers, DeliveryResult.IGNORED, reason, 202, reason)
    text = f"Received: {delivery.commit[:12]} deploys."
    return _store(webhook, delivery, headers, DeliveryResult.RECEIVED, "", 202, text)


@shared_task(name=TAKE_PUSH)
def take_push(delivery_id: int) -> str:
    """Deploy a received push's commit, or queue it behind the app's active job; a push older
    than one already deployed or queued for the app is replaced by it."""
    stored = (
        WebhookDelivery.objects.filter(pk=delivery_id, result=DeliveryResult.RECEIVED)
        .select_related("webhook__app__team")
        .first()
    )
    if stored is None:
        return "taken already"
    app = stored.webhook.app
    with transaction.atomic():
        App.objects.select_for_update().filter(pk=app.pk).first()
        if not WebhookDelivery.objects.filter(
            pk=stored.pk, result=DeliveryResult.RECEIVED
        ).exists():
            return "taken already"
        of_app = WebhookDelivery.objects.filter(webhook__app=app)
        newer = of_app.filter(
            pk__gt=stored.pk, result__in=(DeliveryResult.DEPLOYED, DeliveryResult.QUEUED)
        ).first()
        running = _active_job(app)
        if newer is not None:
            stored.result, stored.replaced_by = DeliveryResult.REPLACED, newer
        elif running is None:
            _start(stored)
        else:
            older = of_app.filter(result=DeliveryResult.QUEUED)
            replaced = [row.commit[:12] for row in older]
            older.update(result=DeliveryResult.REPLACED, replaced_by=stored)
            stored.result, stored.reason = DeliveryResult.QUEUED, _queued_reason(running, replaced)
        stored.save(update_fields=["result", "reason", "job", "replaced_by"])
    return str(stored.result)


def start_waiting(app: App) -> Job | None:
    """Deploy the newest push that waited for the app's last job, once no job of the app is
    active."""
    with transaction.atomic():
        App.objects.select_for_update().filter(pk=app.pk).first()
        waiting = (
            WebhookDelivery.objects.filter(webhook__app=app, result=DeliveryResult.QUEUED)
            .select_related("webhook__app__team")
            .first()
        )
        if waiting is None or _active_job(app) is not None:
            return None
        job = _start(waiting)
        waiting.save(update_fields=["result", "reason", "job"])
        return job


@shared_task(name="deployments.start_waiting_pushes")
def start_all_waiting() -> int:
    """For pushes whose message was lost, and pushes whose app's job ended without telling
    (cancelled while queued, reaped)."""
    stale = timezone.now() - timedelta(seconds=RECEIVED_GRACE_SECONDS)
    for delivery_id in WebhookDelivery.objects.filter(
        result=DeliveryResult.RECEIVED, received_at__lt=stale
    ).values_list("pk", flat=True):
        take_push(delivery_id)
    apps = App.objects.filter(webhook__deliveries__result=DeliveryResult.QUEUED).distinct()
    return sum(start_waiting(app) is not None for app in apps)


def _start(stored: WebhookDelivery) -> Job | None:
    """Start the deploy of a delivery's commit; the caller saves the delivery."""
    app = stored.webhook.app
    why = {
        "webhook": stored.webhook.provider,
        "delivery": stored.delivery_id,
        "pusher": stored.pusher,
        "ref": stored.ref,
    }
    try:
        job = start_deploy(_actor(stored), app, version=stored.commit, why=why)
    except DeployRefused as refused:
        stored.result, stored.reason = DeliveryResult.REFUSED, str(refused)[:300]
        return None
    stored.result, stored.job = DeliveryResult.DEPLOYED, job
    return job


def _store(
    webhook: Webhook,
    delivery: Delivery,
    headers: Mapping[str, str],
    result: DeliveryResult,
    reason: str,
    status: int,
    text: str,
) -> Answer:
    try:
        with transaction.atomic():
            row = _row(webhook, delivery, headers, result, reason)
            row.save()
            if result == DeliveryResult.RECEIVED:
                transaction.on_commit(lambda: current_app.send_task(TAKE_PUSH, args=[row.pk]))
    except IntegrityError:
        return Answer(200, "Already received.")
    return Answer(status, text)


def _row(
    webhook: Webhook,
    delivery: Delivery,
    headers: Mapping[str, str],
    result: DeliveryResult,
    reason: str,
) -> WebhookDelivery:
    return WebhookDelivery(
        webhook=webhook,
        event=delivery.event,
        delivery_id=delivery.delivery_id,
        body_digest=delivery.body_digest,
        ref=delivery.ref,
        commit=delivery.commit,
        pusher=delivery.pusher,
        headers=shown_headers(headers),
        result=result,
        reason=reason[:300],
    )


def _earlier(webhook: Webhook, delivery: Delivery) -> WebhookDelivery | None:
    """A delivery with the same id, or the same body under another id (a replay)."""
    return WebhookDelivery.objects.filter(
        Q(delivery_id=delivery.delivery_id) | Q(body_digest=delivery.body_digest),
        webhook=webhook,
    ).first()


def _active_job(app: App) -> Job | None:
    return (
        Job.objects.filter(
            target_type=App._meta.label_lower,
            target_id=str(app.pk),
            status__in=ACTIVE_STATUSES,
        )
        .order_by("pk")
        .first()
    )


def _queued_reason(running: Job, replaced: list[str]) -> str:
    reason = f"waits for job #{running.pk}"
    if replaced:
        reason += f"; replaces {', '.join(replaced)}"
    return reason


def _actor(stored: WebhookDelivery) -> Actor:
    provider = Provider(stored.webhook.provider).label
    pusher = f", pushed by {stored.pusher}" if stored.pusher else ""
    return Actor(type=ActorType.WEBHOOK, label=f"{provider} webhook{pusher}"[:200])


def _count_refusal(webhook: Webhook, reason: str) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(
        refused_count=F("refused_count") + 1,
        last_refused_at=timezone.now(),
        last_refused_reason=reason[:200],
    )
    logger.warning("webhook %s refused a delivery: %s", webhook.pk, reason)
