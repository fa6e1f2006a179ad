"""The audit trail: every write records who did what to which target, chained by hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from panel.models import AuditAction, AuditChainHead, AuditEvent, Team
from panel.models.audit import ActorType
from panel.sensitive import REDACTED, Sensitive

GENESIS_HASH = "0" * 64
SECRET_KEY_HINTS = ("password", "passphrase", "secret", "token", "private_key", "api_key")
# What an update event says of a secret field: never its value, only whether it changed.
SECRET_FACTS = ("changed", "unchanged")


@dataclass(frozen=True)
class Actor:
    """Who did it: a signed-in user, an API token, a webhook, a schedule or the system."""

    type: str
    label: str
    user: Any = None
    ip: str | None = None

    @classmethod
    def for_user(cls, user: Any, ip: str | None = None) -> Actor:
        return cls(type=ActorType.USER, label=user.get_username(), user=user, ip=ip)

    @classmethod
    def for_token(cls, token: Any, ip: str | None = None) -> Actor:
        label = f"{token.user.get_username()} (token {token.name})"
        return cls(type=ActorType.TOKEN, label=label, user=token.user, ip=ip)

    @classmethod
    def of_job(cls, job: Any) -> Actor:
        """Whoever started the job, for writes the job makes on their behalf."""
        kind = ActorType.USER if job.actor_user_id else ActorType.SYSTEM
        return cls(type=kind, label=job.actor_label, user=job.actor_user)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(type=ActorType.SYSTEM, label=label)


def record(
    actor: Actor,
    action: AuditAction,
    *,
    team: Team | None,
    target: models.Model | None = None,
    target_label: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain; call inside the transaction of the write it describes."""
    masked = mask_secrets(dict(details or {}))
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS_HASH}
        )
        event = AuditEvent(
            at=timezone.now(),
            team=team,
            team_label=team.name if team else "",
            actor_type=actor.type,
            actor_user=actor.user,
            actor_label=actor.label,
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_label=target_label or (str(target) if target is not None else ""),
            ip=actor.ip,
            details=masked,
            prev_hash=head.last_hash,
        )
        event.hash = event_hash(event)
        event.save()
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


def record_for_person(
    actor: Actor, person: Any, action: AuditAction, details: Mapping[str, Any] | None = None
) -> None:
    """A change to a person's own account (their keys, their second factor) concerns every
    team they are in: each team's history records it."""
    for membership in person.memberships.select_related("team"):
        record(actor, action, team=membership.team, target=person,
               target_label=person.get_username(), details=details)  # fmt: skip


def values_of(instance: models.Model | None, names: Iterable[str]) -> dict[str, Any] | None:
    """The fields of a row as an update event compares them; None for a row not there yet."""
    if instance is None or instance._state.adding:
        return None
    return {name: _comparable(getattr(instance, name)) for name in names}


def diff(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    *,
    secrets: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """`{"changes": {field: {"from": …, "to": …}}}` for each field whose value differs, and
    each secret field as "changed" or "unchanged"; nothing for a row that was created."""
    if before is None:
        return {}
    changes: dict[str, Any] = {}
    for name, value in after.items():
        old, new = _comparable(before.get(name)), _comparable(value)
        if old != new:
            changes[name] = {"from": old, "to": new}
    for name, changed in (secrets or {}).items():
        changes[name] = SECRET_FACTS[0] if changed else SECRET_FACTS[1]
    return {"changes": changes}


def _comparable(value: Any) -> Any:
    if isinstance(value, Sensitive):
        return value
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_comparable(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def event_hash(event: AuditEvent) -> str:
    """The SHA-256 of the previous hash and this event's content, in a canonical form."""
    content = {
        "at": event.at.isoformat(),
        "team_id": event.team_id,
        "team_label": event.team_label,
        "actor_type": event.actor_type,
        "actor_user_id": event.actor_user_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "ip": event.ip,
        "details": event.details,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{event.prev_hash}|{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    reason: str


def verify_chain() -> Iterator[ChainProblem]:
    """Yield every place where the stored chain does not match its recomputed hashes."""
    expected_prev = GENESIS_HASH
    last_hash = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            yield ChainProblem(event.pk, "previous hash does not match (row removed or reordered)")
        if event_hash(event) != event.hash:
            yield ChainProblem(event.pk, "content does not match its hash (row edited)")
        expected_prev = event.hash
        last_hash = event.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != last_hash:
        yield ChainProblem(0, "the newest events are missing (chain head does not match)")


def mask_secrets(details: dict[str, Any]) -> dict[str, Any]:
    """Replace values of secret-looking keys and every Sensitive value with [REDACTED];
    objects become their names."""
    return {key: _masked(key, value) for key, value in details.items()}


def _masked(key: str, value: Any) -> Any:
    # A yes/no or an empty value under a secret-sounding key (`secret: true`) is a fact about
    # the secret, not the secret: it stays readable.
    flag = value is None or isinstance(value, bool) or value in SECRET_FACTS
    secret_key = any(hint in key.lower() for hint in SECRET_KEY_HINTS)
    if isinstance(value, Sensitive) or (secret_key and not flag):
        return REDACTED
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict):
        return mask_secrets(value)
    if isinstance(value, list | tuple):
        return [_masked("", item) for item in value]
    return value
