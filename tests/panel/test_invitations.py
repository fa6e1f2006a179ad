"""Invitations by mail: sent, listed as pending, single-use, expiring, bound to the invited
address, revocable; accepted by signing in or by creating that address's account."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from panel import invitation_services
from panel.models import AuditEvent, Invitation, Membership, Role
from tests.conftest import Crew

PASSWORD = "a long passphrase 42"


def invite(
    client: Client, crew: Crew, email: str = "new@example.com", role: str = "deployer"
) -> Any:
    client.force_login(crew.admin)
    return client.post(reverse("members"), {"email": email, "role": role})


def link_in(mailoutbox: list[Any]) -> str:
    found = re.search(r"http://\S+/invitations/(\S+)", mailoutbox[-1].body)
    assert found, mailoutbox[-1].body
    return f"/invitations/{found.group(1)}"


def test_an_admin_invites_by_mail_and_the_invitation_is_pending(
    crew: Crew, client: Client, mailoutbox: list[Any]
) -> None:
    response = invite(client, crew, "New@Example.com")
    assert response.status_code == 302
    mail = mailoutbox[0]
    assert mail.to == ["new@example.com"] and "Acme" in mail.subject
    assert "adam invites you to the team Acme as deployer" in mail.body
    token = link_in(mailoutbox).rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_hash != token and token not in str(invitation.__dict__)
    assert invitation.expires_at - timezone.now() > timedelta(hours=71)
    page = client.get(reverse("members")).content.decode()
    assert "new@example.com" in page and "Invited, not joined yet" in page
    assert token not in page
    event = AuditEvent.objects.get(action="member.invite")
    assert event.details["email"] == "new@example.com" and token not in str(event.details)


def test_a_new_person_creates_the_account_of_the_address_and_joins_once(
    crew: Crew, client: Client, mailoutbox: list[Any]
) -> None:
    invite(client, crew)
    link = link_in(mailoutbox)
    client.logout()
    page = client.get(link).content.decode()
    assert "Create my account" in page and "new@example.com" in page
    joined = client.post(link, {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD})
    assert joined.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert newbie.email == "new@example.com"
    assert Membership.objects.get(user=newbie, team=crew.team).role == Role.DEPLOYER
    event = AuditEvent.objects.get(action="member.add", target_label="newbie")
    assert event.actor_label == "newbie" and event.details["invited_by"] == "adam"
    assert client.get(reverse("dashboard")).status_code == 200  # signed in

    client.logout()
    again = client.get(link)
    assert again.status_code == 410 and "used already" in again.content.decode()
    assert client.post(link, {"username": "other", "password1": PASSWORD,
                              "password2": PASSWORD}).status_code == 410  # fmt: skip
    assert not User.objects.filter(username="other").exists()


def test_the_invitation_is_for_its_address_only(
    crew: Crew, client: Client, mailoutbox: list[Any]
) -> None:
    invite(client, crew, "dora2@example.com")
    link = link_in(mailoutbox)
    client.force_login(crew.outsider)  # oscar@example.com
    refused = client.post(link, follow=True).content.decode()
    assert "This invitation is for dora2@example.com" in refused
    assert not Membership.objects.filter(user=crew.outsider, team=crew.team).exists()

    crew.outsider.email = "Dora2@example.com"
    crew.outsider.save()
    assert client.post(link).status_code == 302
    assert Membership.objects.get(user=crew.outsider, team=crew.team).role == Role.DEPLOYER


def test_an_address_with_an_account_signs_in_instead(
    crew: Crew, client: Client, mailoutbox: list[Any]
) -> None:
    invite(client, crew, "oscar@example.com")
    link = link_in(mailoutbox)
    client.logout()
    page = client.post(link, {"username": "oscar2", "password1": PASSWORD,
                              "password2": PASSWORD}, follow=True)  # fmt: skip
    assert "exists already: sign in with it instead" in page.content.decode()
    assert not User.objects.filter(username="oscar2").exists()


@pytest.mark.parametrize("ending", ["expired", "revoked"])
def test_expired_and_revoked_invitations_do_nothing(
    crew: Crew, client: Client, mailoutbox: list[Any], ending: str
) -> None:
    invite(client, crew)
    link = link_in(mailoutbox)
    invitation = Invitation.objects.get()
    if ending == "expired":
        Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        client.post(reverse("invitation_revoke", args=[invitation.pk]))
        assert AuditEvent.objects.filter(action="member.invite.revoke").exists()
    client.logout()
    response = client.get(link)
    assert response.status_code == 410 and ending in response.content.decode()
    assert "new@example.com" not in client.get(reverse("members")).content.decode()


def test_roles_decide_who_may_invite_whom(
    crew: Crew, client: Client, mailoutbox: list[Any]
) -> None:
    page = invite(client, crew, role="owner").content.decode()
    assert "cannot change this membership" in page and not Invitation.objects.exists()
    client.force_login(crew.deployer)
    assert (
        client.post(reverse("members"), {"email": "a@example.com", "role": "viewer"}).status_code
        == 403
    )
    client.force_login(crew.owner)
    assert (
        client.post(reverse("members"), {"email": "o@example.com", "role": "owner"}).status_code
        == 302
    )
    page = invite(client, crew, "dora@example.com").content.decode()
    assert "is a member of Acme already" in page


def test_an_invitation_dies_with_its_inviter_s_right(
    crew: Crew, client: Client, mailoutbox: list[Any]
) -> None:
    invite(client, crew)
    link = link_in(mailoutbox)
    Membership.objects.filter(user=crew.admin).update(role=Role.VIEWER)
    client.logout()
    page = client.post(link, {"username": "late", "password1": PASSWORD,
                              "password2": PASSWORD}, follow=True)  # fmt: skip
    assert "may no longer add members" in page.content.decode()
    assert not User.objects.filter(username="late").exists()


def test_a_mail_that_cannot_be_sent_says_so(crew: Crew, client: Client, settings: Settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assert invite(client, crew).status_code == 302
    messages = [str(m) for m in client.get(reverse("members")).context["messages"]]
    assert any("could not be sent" in m for m in messages), messages
    assert invitation_services.pending(crew.team)  # still there, to revoke
