"""The one place that decides who may do what. Views and the API call only this module."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404

from panel.models import Membership, Role, Team

M = TypeVar("M", bound=models.Model)


class Action(StrEnum):
    VIEW = "view"
    CANCEL_JOB = "cancel_job"
    CHECK_SERVER = "check_server"
    DEPLOY = "deploy"
    APP_EXEC = "app_exec"
    MANAGE_APPS = "manage_apps"
    MANAGE_SERVERS = "manage_servers"
    SERVER_EXEC = "server_exec"
    MANAGE_SECRETS = "manage_secrets"
    MANAGE_BACKUPS = "manage_backups"
    ACKNOWLEDGE_ALERTS = "acknowledge_alerts"
    MANAGE_ALERTS = "manage_alerts"
    RELEASE_LOCK = "release_lock"
    EXPORT_AUDIT = "export_audit"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_OWNERS = "manage_owners"
    REMOVE_DATA = "remove_data"
    RESTORE_LIVE = "restore_live"
    DELETE_TEAM = "delete_team"


_VIEWER = frozenset({Action.VIEW})
_DEPLOYER = _VIEWER | {
    Action.DEPLOY, Action.APP_EXEC, Action.CANCEL_JOB, Action.CHECK_SERVER,
    Action.ACKNOWLEDGE_ALERTS,
}  # fmt: skip
_ADMIN = _DEPLOYER | {
    Action.MANAGE_APPS,
    Action.MANAGE_SERVERS,
    Action.SERVER_EXEC,
    Action.MANAGE_SECRETS,
    Action.MANAGE_BACKUPS,
    Action.MANAGE_ALERTS,
    Action.RELEASE_LOCK,
    Action.EXPORT_AUDIT,
    Action.MANAGE_MEMBERS,
}
_OWNER = _ADMIN | {
    Action.MANAGE_OWNERS,
    Action.DELETE_TEAM,
    Action.REMOVE_DATA,
    Action.RESTORE_LIVE,
}

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.VIEWER: _VIEWER,
    Role.DEPLOYER: frozenset(_DEPLOYER),
    Role.ADMIN: frozenset(_ADMIN),
    Role.OWNER: frozenset(_OWNER),
}


def role_allows(role: str | None, action: Action) -> bool:
    return role is not None and action in ROLE_ACTIONS.get(role, frozenset())


def role_of(user: Any, team: Team | int) -> str | None:
    """The user's role in the team, or None when they are not a member."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    team_id = team.pk if isinstance(team, Team) else team
    return (
        Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
    )


def can(user: Any, team: Team | int, action: Action) -> bool:
    return role_allows(role_of(user, team), action)


def require(user: Any, team: Team | int, action: Action) -> None:
    """403 for a member whose role does not allow the action, 404 for a non-member."""
    role = role_of(user, team)
    if role is None:
        raise Http404("No such object.")
    if not role_allows(role, action):
        raise PermissionDenied(f"Your role ({role}) cannot do this.")


def teams_of(user: Any) -> models.QuerySet[Team]:
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def get_for(user: Any, queryset: models.QuerySet[M], pk: Any, action: Action = Action.VIEW) -> M:
    """Fetch a team-owned object for this user: 404 unless it is in one of their teams,
    403 when their role there does not allow the action."""
    try:
        obj = queryset.filter(team__memberships__user=user).distinct().get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise Http404("No such object.") from error
    require(user, obj.team_id, action)  # type: ignore[attr-defined]
    return obj
