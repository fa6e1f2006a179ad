"""Creating, checking and revoking API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from panel import audit
from panel.audit import Actor
from panel.models import ApiToken, AuditAction, Team, TokenScope
from panel.permissions import Action

TOKEN_PREFIX = "pnl_"  # noqa: S105 (a marker, not a secret)
SCOPE_ACTIONS: dict[str, frozenset[Action]] = {
    TokenScope.READ: frozenset({Action.VIEW}),
    TokenScope.DEPLOY: frozenset({Action.VIEW, Action.DEPLOY, Action.CANCEL_JOB}),
    TokenScope.ADMIN: frozenset(Action),
}


def create(
    actor: Actor,
    user: User,
    name: str,
    scope: str,
    expires_at: datetime | None,
    team: Team | None = None,
) -> str:
    """Make a token and return its secret; only its hash is kept."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            scope=scope,
            prefix=secret[:12],
            digest=_digest(secret),
            expires_at=expires_at,
        )
        audit.record(
            actor,
            AuditAction.TOKEN_CREATE,
            team=team,
            target=token,
            details={"scope": scope, "expires": expires_at.isoformat() if expires_at else None},
        )
    return secret


def revoke(actor: Actor, token: ApiToken, team: Team | None = None) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit.record(actor, AuditAction.TOKEN_REVOKE, team=team, target=token)


def find(secret: str) -> ApiToken | None:
    """The usable token for this secret, or None (unknown, revoked or expired)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(secret)).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def allows(token: ApiToken, action: Action) -> bool:
    return allows_scope(token.scope, action)


def allows_scope(scope: str, action: Action) -> bool:
    return action in SCOPE_ACTIONS.get(scope, frozenset())


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
