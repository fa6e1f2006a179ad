"""What a verified delivery says: which event, which delivery, which ref moved to which commit,
and who pushed. Read the same way for each provider's body and headers."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs

from deployments.webhook_signatures import Provider

FULL_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
NO_COMMIT = re.compile(r"^0+$")
PRINTABLE_RE = re.compile(r"[^\x20-\x7e]")
EVENT_HEADERS = {
    Provider.GITHUB: ("x-github-event",),
    Provider.GITLAB: ("x-gitlab-event",),
    Provider.GITEA: ("x-gitea-event", "x-forgejo-event"),
    Provider.GENERIC: (),
}
DELIVERY_HEADERS = {
    Provider.GITHUB: ("x-github-delivery",),
    Provider.GITLAB: ("webhook-id", "idempotency-key", "x-gitlab-event-uuid"),
    Provider.GITEA: ("x-gitea-delivery", "x-forgejo-delivery"),
    Provider.GENERIC: ("webhook-id",),
}
PUSH_EVENTS = {"push", "push hook", "tag push hook"}
PING_EVENTS = {"ping", "system hook"}


class BadPayload(Exception):
    """A signed delivery whose body is not a push the panel can read."""


@dataclass(frozen=True)
class Delivery:
    event: str
    delivery_id: str
    body_digest: str
    ref: str = ""
    commit: str = ""
    pusher: str = ""

    @property
    def is_ping(self) -> bool:
        return self.event.lower() in PING_EVENTS

    @property
    def is_push(self) -> bool:
        return self.event.lower() in PUSH_EVENTS


def read(provider: Provider, headers: Mapping[str, str], body: bytes) -> Delivery:
    digest = hashlib.sha256(body).hexdigest()
    event = _first(headers, EVENT_HEADERS[provider]) or "push"
    delivery_id = _first(headers, DELIVERY_HEADERS[provider]) or f"body:{digest[:40]}"
    data = _json(headers, body)
    if provider == Provider.GENERIC:
        event = _text(data.get("event")) or "push"
    delivery = Delivery(
        event=clean(event, 60), delivery_id=clean(delivery_id, 100), body_digest=digest
    )
    if not delivery.is_push:
        return delivery
    commit = data.get("commit") if provider == Provider.GENERIC else data.get("after")
    if provider == Provider.GITLAB:
        commit = data.get("checkout_sha") or data.get("after")
    ref = _text(data.get("ref"))
    if not ref.startswith("refs/"):
        ref = f"refs/heads/{ref}" if ref else ""
    return Delivery(
        event=delivery.event,
        delivery_id=delivery.delivery_id,
        body_digest=digest,
        ref=clean(ref, 250),
        commit=_commit(commit),
        pusher=clean(_pusher(provider, data), 100),
    )


def why_not_deployed(branch: str, tag_pattern: str, ref: str, commit: str) -> str:
    """Why this push deploys nothing, or "" when it deploys."""
    if not commit:
        return f"{ref} was deleted; nothing to deploy."
    if ref.startswith("refs/heads/"):
        name = ref.removeprefix("refs/heads/")
        if branch and name == branch:
            return ""
        return f"branch {name} is not the one that deploys ({branch or 'none'})."
    if ref.startswith("refs/tags/"):
        name = ref.removeprefix("refs/tags/")
        if tag_pattern and fnmatchcase(name, tag_pattern):
            return ""
        return f"tag {name} does not match the deploying tags ({tag_pattern or 'none'})."
    return f"{ref or 'the push'} is neither a branch nor a tag."


def clean(value: str, limit: int) -> str:
    return PRINTABLE_RE.sub("?", value)[:limit]


def _json(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    raw = body
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raw = parse_qs(body.decode("utf-8", "replace")).get("payload", [""])[0].encode()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise BadPayload("The body is not a JSON object.")
    return data


def _commit(value: object) -> str:
    sha = _text(value).lower()
    if not sha or NO_COMMIT.fullmatch(sha):
        return ""
    if not FULL_SHA_RE.fullmatch(sha):
        raise BadPayload("The commit is not a full SHA.")
    return sha


def _pusher(provider: Provider, data: dict[str, Any]) -> str:
    if provider == Provider.GITLAB:
        return _text(data.get("user_username")) or _text(data.get("user_name"))
    if provider == Provider.GENERIC:
        return _text(data.get("pusher"))
    pusher, sender = _mapping(data.get("pusher")), _mapping(data.get("sender"))
    return (
        _text(pusher.get("name"))
        or _text(pusher.get("login"))
        or _text(pusher.get("username"))
        or _text(sender.get("login"))
    )


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> str:
    return next((headers[name] for name in names if headers.get(name)), "")


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def shown_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as the deliveries page shows them: no signature, token, cookie or
    authorization, a bounded number of bounded values."""
    hidden = ("signature", "token", "authorization", "cookie")
    kept = {
        name: clean(value, 300)
        for name, value in sorted(headers.items())
        if not any(word in name for word in hidden)
    }
    return dict(list(kept.items())[:40])
