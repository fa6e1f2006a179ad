from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from panel.models import Job, Role
from panel.permissions import Action, can, get_for, require, role_allows
from tests.conftest import Crew

EXPECTED = {
    Role.VIEWER: {Action.VIEW},
    Role.DEPLOYER: {
        Action.VIEW,
        Action.DEPLOY,
        Action.APP_EXEC,
        Action.CANCEL_JOB,
        Action.CHECK_SERVER,
        Action.ACKNOWLEDGE_ALERTS,
    },
    Role.ADMIN: set(Action)
    - {Action.MANAGE_OWNERS, Action.DELETE_TEAM, Action.REMOVE_DATA, Action.RESTORE_LIVE},
    Role.OWNER: set(Action),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_each_role_may_do_exactly_its_actions(role: Role, action: Action) -> None:
    assert role_allows(role, action) is (action in EXPECTED[role])


def test_a_non_member_may_do_nothing() -> None:
    assert not any(role_allows(None, action) for action in Action)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_can_answers_from_the_users_membership(crew: Crew, role: Role, action: Action) -> None:
    user = crew.by_role(role)
    assert can(user, crew.team, action) is (action in EXPECTED[role])
    assert can(user, crew.other_team, action) is False


def test_require_gives_404_to_outsiders_and_403_to_weak_roles(crew: Crew) -> None:
    with pytest.raises(Http404):
        require(crew.outsider, crew.team, Action.VIEW)
    with pytest.raises(PermissionDenied):
        require(crew.viewer, crew.team, Action.DEPLOY)
    require(crew.deployer, crew.team, Action.DEPLOY)


def test_get_for_returns_404_for_another_teams_object(crew: Crew) -> None:
    job = Job.objects.create(kind="x", team=crew.team, actor_label="t")
    assert get_for(crew.viewer, Job.objects.all(), job.pk) == job
    with pytest.raises(Http404):
        get_for(crew.outsider, Job.objects.all(), job.pk)
    with pytest.raises(Http404):
        get_for(crew.viewer, Job.objects.all(), "not-a-number")


def test_get_for_gives_403_when_the_role_is_too_weak(crew: Crew) -> None:
    job = Job.objects.create(kind="x", team=crew.team, actor_label="t")
    with pytest.raises(PermissionDenied):
        get_for(crew.viewer, Job.objects.all(), job.pk, Action.CANCEL_JOB)


def test_an_inactive_user_has_no_role(crew: Crew) -> None:
    crew.owner.is_active = False
    crew.owner.save()
    assert not can(crew.owner, crew.team, Action.VIEW)
