"""Invitations by mail: single-use, expiring, bound to the invited address, revocable; each
step audited. The link carries a token of which only a hash is kept."""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from panel import audit, teams
from panel.audit import Actor
from panel.models import AuditAction, Invitation, Membership, Team
from panel.permissions import can

logger = logging.getLogger(__name__)


class InvitationRefused(Exception):
    """Said to the person as it is; nothing changed."""


def invite(actor: Actor, team: Team, email: str, role: str) -> tuple[Invitation, str]:
    """A new invitation (replacing a pending one for the same address) and its link."""
    teams.require_to_grant(actor, team, role)
    email = email.strip().lower()
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise InvitationRefused(f"{email} is a member of {team.name} already.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _pending(team).filter(email=email).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            team=team,
            email=email,
            role=role,
            token_hash=_hash(token),
            invited_by=actor.user,
            invited_by_label=actor.label,
            expires_at=timezone.now() + timedelta(hours=settings.PANEL_INVITATION_HOURS),
        )
        audit.record(
            actor,
            AuditAction.MEMBER_INVITE,
            team=team,
            target=invitation,
            target_label=email,
            details={"email": email, "role": role, "expires": invitation.expires_at.isoformat()},
        )
    return invitation, link(token)


def link(token: str) -> str:
    return f"{settings.PANEL_BASE_URL}{reverse('invitation_accept', args=[token])}"


def send(invitation: Invitation, url: str) -> str:
    """Mail the link; "" when sent, else why it was not."""
    hours = settings.PANEL_INVITATION_HOURS
    body = (
        f"{invitation.invited_by_label} invites you to the team {invitation.team.name} as "
        f"{invitation.get_role_display().lower()}.\n\n"
        f"Accept: {url}\n\n"
        f"The link works once, for {invitation.email} only, for {hours} hours. If you did not "
        "expect it, ignore this mail.\n"
    )
    subject = f"Join {invitation.team.name} on the panel"
    try:
        send_mail(subject, body, None, [invitation.email], fail_silently=False)
    except (OSError, smtplib.SMTPException) as failure:
        logger.warning("the invitation to %s was not sent: %s", invitation.email, failure)
        return f"{type(failure).__name__}: {failure}"
    return ""


def revoke(actor: Actor, invitation: Invitation) -> None:
    teams.require_to_grant(actor, invitation.team, invitation.role)
    with transaction.atomic():
        if _pending(invitation.team).filter(pk=invitation.pk).update(revoked_at=timezone.now()):
            audit.record(
                actor,
                AuditAction.INVITATION_REVOKE,
                team=invitation.team,
                target=invitation,
                target_label=invitation.email,
            )


def find(token: str) -> Invitation:
    """The pending invitation of this token, or InvitationRefused saying why not."""
    invitation = (
        Invitation.objects.select_related("team", "invited_by")
        .filter(token_hash=_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationRefused("This invitation link is not known; check that it is whole.")
    if invitation.accepted_at is not None:
        raise InvitationRefused("This invitation was used already.")
    if invitation.revoked_at is not None:
        raise InvitationRefused("This invitation was revoked; ask for a new one.")
    if invitation.expires_at <= timezone.now():
        raise InvitationRefused("This invitation has expired; ask for a new one.")
    return invitation


def accept(user: User, token: str) -> Membership:
    """The signed-in user joins, if the invitation is for their address."""
    with transaction.atomic():
        invitation = find(token)
        Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if user.email.strip().lower() != invitation.email:
            raise InvitationRefused(
                f"This invitation is for {invitation.email}; you are signed in as "
                f"{user.username}. Sign out, then open the link again."
            )
        if Membership.objects.filter(team=invitation.team, user=user).exists():
            raise InvitationRefused(f"You are a member of {invitation.team.name} already.")
        inviter = invitation.invited_by
        action = teams.grant_action(invitation.role)
        if inviter is None or not can(inviter, invitation.team, action):
            raise InvitationRefused(
                "Whoever invited you may no longer add members in this role; ask for a new "
                "invitation."
            )
        used = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        if not used:
            raise InvitationRefused("This invitation was used already.")
        membership = Membership.objects.create(
            team=invitation.team, user=user, role=invitation.role
        )
        audit.record(
            Actor.for_user(user),
            AuditAction.MEMBER_ADD,
            team=invitation.team,
            target=user,
            target_label=user.username,
            details={"role": invitation.role, "invited_by": invitation.invited_by_label},
        )
    return membership


def create_account(token: str, username: str, password: str) -> User:
    """A new account for the invited address, which then joins; all or nothing."""
    with transaction.atomic():
        invitation = find(token)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationRefused(
                f"An account with {invitation.email} exists already: sign in with it instead."
            )
        user = User.objects.create_user(username, invitation.email, password)
        accept(user, token)
    return user


def pending(team: Team) -> list[Invitation]:
    return list(_pending(team).filter(expires_at__gt=timezone.now()))


def _pending(team: Team) -> models.QuerySet[Invitation]:
    return Invitation.objects.filter(team=team, accepted_at__isnull=True, revoked_at__isnull=True)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
