"""Is a webhook delivery signed by its provider with the app's secret? Constant-time, and an
empty secret or an empty signature never passes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from django.db import models

MAX_AGE_SECONDS = 300
SIGNED_SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks key prefix)


class Provider(models.TextChoices):
    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"
    GITEA = "gitea", "Gitea or Forgejo"
    GENERIC = "generic", "Any sender (Standard Webhooks signature)"


class Refused(Exception):
    """The delivery is not signed with the app's secret; the message says what was wrong."""


def new_secret() -> str:
    """A secret every provider accepts: GitLab's signing token and the Standard Webhooks key
    (`whsec_` + base64 of 32 random bytes) also work as a plain shared secret elsewhere."""
    return SIGNED_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def verify(
    provider: Provider, secret: str, headers: Mapping[str, str], body: bytes, now: float
) -> None:
    """Raise Refused unless the delivery carries a valid signature. `headers` are keyed in
    lower case."""
    if not secret:
        raise Refused("The webhook has no secret; every delivery is refused.")
    if provider == Provider.GITHUB:
        _hex_hmac(secret, headers.get("x-hub-signature-256", ""), body, prefix="sha256=")
    elif provider == Provider.GITEA:
        sent = headers.get("x-gitea-signature") or headers.get("x-forgejo-signature", "")
        _hex_hmac(secret, sent, body, prefix="")
    elif provider == Provider.GITLAB and "webhook-signature" not in headers:
        _token(secret, headers.get("x-gitlab-token", ""))
    else:
        _standard(secret, headers, body, now)


def hex_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _hex_hmac(secret: str, sent: str, body: bytes, *, prefix: str) -> None:
    if not sent:
        raise Refused("The delivery carries no signature.")
    if prefix and not sent.startswith(prefix):
        raise Refused(f"The signature does not start with {prefix!r}.")
    wanted = prefix + hex_signature(secret, body)
    if not hmac.compare_digest(wanted.encode(), sent.strip().lower().encode()):
        raise Refused("The signature does not match the body and the app's secret.")


def _token(secret: str, sent: str) -> None:
    if not sent:
        raise Refused("The delivery carries no token.")
    if not hmac.compare_digest(secret.encode(), sent.encode()):
        raise Refused("The token does not match the app's secret.")


def _standard(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
    delivery_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    sent = headers.get("webhook-signature", "")
    if not (delivery_id and timestamp and sent):
        raise Refused("The delivery lacks webhook-id, webhook-timestamp or webhook-signature.")
    try:
        age = now - int(timestamp)
    except ValueError:
        raise Refused("webhook-timestamp is not a number of seconds.") from None
    if abs(age) > MAX_AGE_SECONDS:
        raise Refused(f"webhook-timestamp is {int(age)} s away from now (at most 300 s).")
    wanted = standard_signature(secret, delivery_id, timestamp, body).encode()
    if not any(hmac.compare_digest(wanted, one.encode()) for one in sent.split()):
        raise Refused("The signature does not match the body and the app's secret.")


def _standard_key(secret: str) -> bytes:
    if secret.startswith(SIGNED_SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SIGNED_SECRET_PREFIX) :], validate=True)
        except binascii.Error:
            pass
    return secret.encode()
