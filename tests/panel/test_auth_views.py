from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from panel.models import LoginFailure
from tests.conftest import Crew


def _login(client: Client, password: str, **extra: str) -> int:
    response = client.post(
        reverse("login"),
        {"username": "dora", "password": password},
        **extra,  # type: ignore[arg-type]
    )
    return response.status_code


def test_a_member_signs_in_and_sees_the_dashboard(crew: Crew, client: Client) -> None:
    assert _login(client, "correct horse 42") == 302
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200 and b"Acme" in response.content


def test_the_dashboard_asks_for_sign_in_first(client: Client, db: None) -> None:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_sign_in_stops_after_repeated_failures(
    crew: Crew, client: Client, settings: SettingsWrapper
) -> None:
    settings.PANEL_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert _login(client, "wrong") == 200
    response = client.post(reverse("login"), {"username": "dora", "password": "correct horse 42"})
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_a_forged_forwarded_for_header_does_not_reset_the_limit(
    crew: Crew, client: Client, settings: SettingsWrapper
) -> None:
    settings.PANEL_LOGIN_MAX_FAILURES = 3
    for i in range(3):
        _login(client, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert set(LoginFailure.objects.values_list("ip", flat=True)) == {"127.0.0.1"}
    response = client.post(
        reverse("login"),
        {"username": "dora", "password": "correct horse 42"},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert b"Too many failed sign-ins" in response.content


def test_many_names_from_one_address_are_limited_too(
    crew: Crew, client: Client, settings: SettingsWrapper
) -> None:
    settings.PANEL_LOGIN_MAX_FAILURES = 2
    for i in range(8):
        client.post(reverse("login"), {"username": f"guess{i}", "password": "x"})
    response = client.post(reverse("login"), {"username": "dora", "password": "correct horse 42"})
    assert b"Too many failed sign-ins" in response.content


def test_reset_links_use_the_configured_base_url_not_the_host_header(
    crew: Crew, client: Client, settings: SettingsWrapper
) -> None:
    settings.PANEL_BASE_URL = "https://panel.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    client.post(reverse("password_reset"), {"email": "dora@example.com"}, HTTP_HOST="evil.example")
    assert len(mail.outbox) == 1
    links = re.findall(r"https?://\S+", str(mail.outbox[0].body))
    assert links and all(
        link.startswith("https://panel.example.com/password/reset/") for link in links
    )
    assert "evil" not in mail.outbox[0].body


def test_up_answers_when_the_database_does(client: Client, db: None) -> None:
    response = client.get("/up")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_old_failures_are_forgotten_by_the_housekeeping_task(crew: Crew, client: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from panel.tasks import forget_old_login_failures

    _login(client, "wrong")
    LoginFailure.objects.create(username="dora", ip="127.0.0.1")
    LoginFailure.objects.filter(pk=LoginFailure.objects.first().pk).update(  # type: ignore[union-attr]
        at=timezone.now() - timedelta(days=1)
    )
    assert forget_old_login_failures() == 1 and LoginFailure.objects.count() == 1


@pytest.mark.parametrize(
    "spelling", ["dora ", " dora", "dora\t", "\uff44ora", "dor\uff41", "  dora  "]
)
def test_another_spelling_of_the_name_gets_no_fresh_guesses(
    crew: Crew, client: Client, settings: SettingsWrapper, spelling: str
) -> None:
    settings.PANEL_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert _login(client, "wrong") == 200
    response = client.post(reverse("login"), {"username": spelling, "password": "correct horse 42"})
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_failures_under_other_spellings_count_for_the_same_account(
    crew: Crew, client: Client, settings: SettingsWrapper
) -> None:
    settings.PANEL_LOGIN_MAX_FAILURES = 3
    for spelling in ["dora ", "\uff44ora", " dora"]:
        client.post(reverse("login"), {"username": spelling, "password": "wrong"})
    assert set(LoginFailure.objects.values_list("username", flat=True)) == {"dora"}
    response = client.post(reverse("login"), {"username": "dora", "password": "correct horse 42"})
    assert b"Too many failed sign-ins" in response.content
