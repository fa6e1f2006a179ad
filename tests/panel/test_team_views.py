from __future__ import annotations

from django.test import Client
from django.urls import reverse

from panel.models import AuditEvent, Invitation, Membership, Role
from tests.conftest import Crew


def test_a_viewer_cannot_invite_members(crew: Crew, client: Client) -> None:
    client.force_login(crew.viewer)
    response = client.post(reverse("members"), {"email": "x@example.com", "role": "owner"})
    assert response.status_code == 403 and not Invitation.objects.exists()


def test_an_admin_cannot_make_owners(crew: Crew, client: Client) -> None:
    client.force_login(crew.admin)
    response = client.post(reverse("member_change", args=[crew.viewer.pk]), {"role": "owner"})
    assert response.status_code == 403
    assert Membership.objects.get(user=crew.viewer).role == Role.VIEWER


def test_the_last_owner_cannot_leave(crew: Crew, client: Client) -> None:
    client.force_login(crew.owner)
    client.post(reverse("member_change", args=[crew.owner.pk]), {"remove": "1"})
    assert Membership.objects.filter(user=crew.owner, team=crew.team).exists()


def test_an_owner_changes_a_role_with_an_audit_event(crew: Crew, client: Client) -> None:
    client.force_login(crew.owner)
    client.post(reverse("member_change", args=[crew.viewer.pk]), {"role": "deployer"})
    assert Membership.objects.get(user=crew.viewer).role == Role.DEPLOYER
    event = AuditEvent.objects.get(action="member.role")
    assert event.details == {
        "role": "deployer",
        "changes": {"role": {"from": "viewer", "to": "deployer"}},
    }


def test_switching_to_a_team_you_are_not_in_is_404(crew: Crew, client: Client) -> None:
    client.force_login(crew.viewer)
    response = client.post(reverse("switch_team"), {"team": crew.other_team.pk})
    assert response.status_code == 404


def test_the_team_switch_never_redirects_off_site(crew: Crew, client: Client) -> None:
    client.force_login(crew.viewer)
    response = client.post(
        reverse("switch_team"), {"team": crew.team.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("dashboard")
