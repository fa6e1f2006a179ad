"""Writes to teams and memberships; each one is audited."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import Signal

from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Membership, Role, Team
from panel.permissions import Action, can

# Sent inside the removal's transaction (actor, team, user): what the member could reach
# through the team goes with them.
member_removed = Signal()


def create_team(actor: Actor, *, name: str, slug: str, owner: User) -> Team:
    with transaction.atomic():
        team = Team.objects.create(name=name, slug=slug)
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
        audit.record(
            actor,
            AuditAction.TEAM_CREATE,
            team=team,
            target=team,
            details={"owner": owner.username},
        )
    return team


def set_member_role(actor: Actor, team: Team, user: User, role: str) -> Membership:
    """Add the user to the team or change their role; owners alone grant or take ownership."""
    current = Membership.objects.filter(team=team, user=user).first()
    touches_owner = role == Role.OWNER or (current is not None and current.role == Role.OWNER)
    _require(actor, team, grant_action(Role.OWNER if touches_owner else role))
    with transaction.atomic():
        if current is not None and current.role == Role.OWNER and role != Role.OWNER:
            _keep_one_owner(team, leaving=user)
        membership, created = Membership.objects.update_or_create(
            team=team, user=user, defaults={"role": role}
        )
        audit.record(
            actor,
            AuditAction.MEMBER_ADD if created else AuditAction.MEMBER_ROLE,
            team=team,
            target=user,
            target_label=user.username,
            details={
                "role": role,
                **audit.diff(audit.values_of(current, ["role"]), {"role": role}),
            },
        )
    return membership


def remove_member(actor: Actor, team: Team, user: User) -> None:
    current = Membership.objects.filter(team=team, user=user).first()
    if current is None:
        return
    _require(actor, team, grant_action(current.role))
    with transaction.atomic():
        if current.role == Role.OWNER:
            _keep_one_owner(team, leaving=user)
        current.delete()
        member_removed.send(sender=Team, actor=actor, team=team, user=user)
        audit.record(
            actor,
            AuditAction.MEMBER_REMOVE,
            team=team,
            target=user,
            target_label=user.username,
            details={"role": current.role},
        )


class LastOwnerError(ValueError):
    pass


def _keep_one_owner(team: Team, leaving: User) -> None:
    others = Membership.objects.filter(team=team, role=Role.OWNER).exclude(user=leaving)
    if not others.exists():
        raise LastOwnerError("A team keeps at least one owner.")


def grant_action(role: str) -> Action:
    """Owners alone grant or take ownership; admins the other roles."""
    return Action.MANAGE_OWNERS if role == Role.OWNER else Action.MANAGE_MEMBERS


def require_to_grant(actor: Actor, team: Team, role: str) -> None:
    _require(actor, team, grant_action(role))


def _require(actor: Actor, team: Team, action: Action) -> None:
    if actor.user is None or not can(actor.user, team, action):
        raise PermissionDenied("Your role cannot change this membership.")
