"""Two-factor sign-in: turning it on with an app's code, signing in with a code or a recovery
code, limits on guessing, old sessions ended, and a team that requires it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from panel import two_factor_services
from panel.models import AuditEvent, Team
from tests.conftest import Crew

PASSWORD = "correct horse 42"


def code_of(device: TOTPDevice) -> str:
    """The app's code now; the device forgets which codes it took, so one may be used again
    within the same 30 seconds, as a second sign-in in a test needs."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    return f"{TOTP(device.bin_key).token():06d}"


def turn_on(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    client.force_login(user)
    page = client.get(reverse("account_two_factor"))
    assert "<svg" in page.content.decode() and page.context["key"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("account_two_factor"), {"code": code_of(device)})
    codes = response.context["codes"]
    assert len(codes) == 10 and codes[0] in response.content.decode()
    device.refresh_from_db()
    return device, codes


def sign_in(client: Client, user: User, next_page: str = "") -> Any:
    client.logout()
    return client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD, "next": next_page}
    )


def test_turning_it_on_takes_a_right_code_and_shows_recovery_codes_once(
    crew: Crew, client: Client
) -> None:
    client.force_login(crew.deployer)
    client.get(reverse("account_two_factor"))
    wrong = client.post(reverse("account_two_factor"), {"code": "000000"})
    assert "not right" in wrong.content.decode()
    assert not two_factor_services.is_on(crew.deployer)
    _, codes = turn_on(client, crew.deployer)
    assert two_factor_services.is_on(crew.deployer)
    again = client.get(reverse("account_two_factor")).content.decode()
    assert codes[0] not in again and "10 recovery codes left" in again
    event = AuditEvent.objects.get(action="account.two_factor.on")
    assert event.team == crew.team and event.target_label == "dora"


def test_signing_in_asks_for_the_code_after_the_password(crew: Crew, client: Client) -> None:
    device, _ = turn_on(client, crew.deployer)
    first = sign_in(client, crew.deployer, next_page="/apps/")
    assert first.status_code == 302 and first["Location"] == reverse("login_code")
    assert client.get(reverse("dashboard")).status_code == 302  # not signed in yet
    wrong = client.post(reverse("login_code"), {"code": "123456"})
    assert "not right" in wrong.content.decode()
    done = client.post(reverse("login_code"), {"code": code_of(device)})
    assert done.status_code == 302 and done["Location"] == "/apps/"
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_recovery_code_signs_in_once(crew: Crew, client: Client) -> None:
    _, codes = turn_on(client, crew.deployer)
    sign_in(client, crew.deployer)
    done = client.post(reverse("login_code"), {"code": codes[0]}, follow=True)
    assert "You used a recovery code; 9 are left." in done.content.decode()
    sign_in(client, crew.deployer)
    again = client.post(reverse("login_code"), {"code": codes[0]})
    assert "not right" in again.content.decode()


def test_guessing_codes_is_limited_like_passwords(
    crew: Crew, client: Client, settings: Settings
) -> None:
    settings.PANEL_LOGIN_MAX_FAILURES = 3
    device, _ = turn_on(client, crew.deployer)
    sign_in(client, crew.deployer)
    for guess in ("111111", "222222", "333333"):
        client.post(reverse("login_code"), {"code": guess})
    blocked = client.post(reverse("login_code"), {"code": code_of(device)})
    assert "Too many failed sign-ins" in blocked.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_code_step_left_too_long_starts_again(crew: Crew, client: Client) -> None:
    turn_on(client, crew.deployer)
    sign_in(client, crew.deployer)
    session = client.session
    session["panel_pending_sign_in"]["at"] -= 301
    session.save()
    assert client.get(reverse("login_code"))["Location"] == reverse("login")


def test_a_session_from_before_the_second_factor_ends(crew: Crew, client: Client) -> None:
    old = Client()
    old.force_login(crew.deployer)
    assert old.get(reverse("dashboard")).status_code == 200
    turn_on(client, crew.deployer)
    assert client.get(reverse("dashboard")).status_code == 200  # the session that turned it on
    ended = old.get(reverse("dashboard"))
    assert ended.status_code == 302 and ended["Location"] == reverse("login")


def test_owners_require_it_and_members_set_it_up_first(crew: Crew, client: Client) -> None:
    client.force_login(crew.admin)
    assert client.post(reverse("team_two_factor"), {"required": "1"}).status_code == 403
    client.force_login(crew.owner)
    client.post(reverse("team_two_factor"), {"required": "1"})
    assert Team.objects.get(pk=crew.team.pk).require_two_factor
    event = AuditEvent.objects.get(action="team.two_factor")
    assert event.details["changes"] == {"require_two_factor": {"from": False, "to": True}}

    client.force_login(crew.viewer)
    sent_away = client.get(reverse("app_list"))
    assert sent_away["Location"] == reverse("account_two_factor")
    assert client.get("/api/v1/openapi.json").status_code == 200  # the API has its own tokens
    turn_on(client, crew.viewer)
    assert client.get(reverse("app_list")).status_code == 200
    off = client.post(reverse("account_two_factor_off"), {"password": PASSWORD}, follow=True)
    assert "requires two-factor sign-in: it stays on" in off.content.decode()
    assert two_factor_services.is_on(crew.viewer)


def test_turning_it_off_takes_the_password(crew: Crew, client: Client) -> None:
    turn_on(client, crew.deployer)
    client.post(reverse("account_two_factor_off"), {"password": "a guess"})
    assert two_factor_services.is_on(crew.deployer)
    client.post(reverse("account_two_factor_off"), {"password": PASSWORD})
    assert not two_factor_services.is_on(crew.deployer)
    assert AuditEvent.objects.filter(action="account.two_factor.off").exists()
