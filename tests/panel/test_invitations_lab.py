"""An invitation through the lab's SMTP sink: the mail carries the link, the link makes the
account of the invited address, and the new member is in the team."""

from __future__ import annotations

import email
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from panel.models import Membership, Role
from tests.conftest import Crew
from tests.lab import services as lab_services

pytestmark = [pytest.mark.lab]


def test_an_invitation_goes_through_smtp_and_its_link_lets_the_person_join(
    crew: Crew, client: Client, settings: Settings
) -> None:
    lab_services.start_receiver("smtp")
    lab_services.empty_inbox()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", lab_services.SMTP_PORT
    settings.PANEL_BASE_URL = "https://panel.example.com"
    client.force_login(crew.owner)
    sent = client.post(reverse("members"), {"email": "ivy@example.com", "role": "admin"})
    assert sent.status_code == 302

    [mail] = lab_services.inbox("mail")
    assert mail["to"] == ["ivy@example.com"]
    message = email.message_from_string(mail["content"])
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = re.search(r"https://panel\.example\.com(/invitations/\S+)", body)
    assert link, body

    client.logout()
    password = "ivy's long passphrase 7"
    joined = client.post(
        link.group(1), {"username": "ivy", "password1": password, "password2": password}
    )
    assert joined.status_code == 302
    ivy = User.objects.get(username="ivy")
    assert Membership.objects.get(user=ivy, team=crew.team).role == Role.ADMIN
