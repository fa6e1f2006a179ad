"""The outbox, sent: each due notification through apprise to its channel, its outcome kept
(sent, or the reason it failed and when it is tried again, with a growing pause); a channel
that is down for a while loses nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import apprise
from django.utils import timezone

from monitoring.models import Delivery, Notification

# apprise says "Sent …" at INFO for every message: the outbox records that already.
logging.getLogger("apprise").setLevel(logging.WARNING)
GIVE_UP_AFTER = 12  # attempts: about a day with the pauses below
FIRST_PAUSE = 15.0  # seconds, doubled after each failure
LONGEST_PAUSE = 3600.0
BATCH = 200


def deliver_due(now: datetime | None = None) -> int:
    """Send what is due; the number sent."""
    due = Notification.objects.filter(
        status=Delivery.PENDING, next_attempt_at__lte=now or timezone.now()
    )
    return deliver(list(due.select_related("channel", "channel__team")[:BATCH]))


def deliver(notifications: list[Notification]) -> int:
    sent = 0
    for notification in notifications:
        error = _send(notification)
        notification.attempts += 1
        if not error:
            notification.status, notification.sent_at = Delivery.SENT, timezone.now()
            notification.last_error = ""
            sent += 1
        else:
            notification.last_error = error
            pause = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** (notification.attempts - 1))
            notification.next_attempt_at = timezone.now() + timedelta(seconds=pause)
            if notification.attempts >= GIVE_UP_AFTER:
                notification.status = Delivery.FAILED
        notification.save()
    return sent


def _send(notification: Notification) -> str:
    """ "" when sent; else what apprise said."""
    sender = apprise.Apprise()
    if not sender.add(notification.channel.url.reveal()):
        return "apprise does not understand this channel's URL."
    with apprise.LogCapture(level=apprise.logging.WARNING) as said:  # type: ignore[no-untyped-call]
        result = sender.notify(title=notification.title, body=notification.body)
    if result:
        return ""
    words = [line.split(" - ", 2)[-1] for line in said.getvalue().splitlines() if line.strip()]
    return scrubbed(" / ".join(words[-3:]), notification.channel.url.reveal()) or (
        "not sent (apprise gave no reason)"
    )


def scrubbed(text: str, url: str) -> str:
    """What apprise said, without any part of the channel's URL that may be a secret."""
    parts = urlsplit(url)
    pieces = [url, parts.username or "", parts.password or "", parts.query,
              *parts.path.split("/"), *(value for _, value in parse_qsl(parts.query))]  # fmt: skip
    for piece in sorted(pieces, key=len, reverse=True):
        if len(piece) >= 4:
            text = text.replace(piece, "[hidden]")
    return text
