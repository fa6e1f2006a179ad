"""In Chromium: the owner invites a member by mail; the mail reaches the lab's SMTP sink; in a
browser of their own the new member opens the link, creates their account and is in."""

from __future__ import annotations

import base64
import email
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import TOTP

from tests.browser.conftest import RunningPanel
from tests.lab import services as lab_services

pytestmark = pytest.mark.browser
IVY_PASSWORD = "ivy's long passphrase 7"


def turn_on_two_factor_and_sign_in_with_a_code(
    page: Any, panel: RunningPanel, artifacts: Path
) -> None:
    """The new member turns on two-factor sign-in with the key the page shows (as an app
    would read it from the QR code), signs out, and signs in with password and code."""
    from playwright.sync_api import expect

    page.get_by_role("link", name="Two-factor").click()
    expect(page.locator("#two-factor-qr svg")).to_be_visible()
    page.screenshot(path=str(artifacts / "two-factor-setup.png"), full_page=True)
    shown = page.locator("#two-factor-key").inner_text().replace(" ", "")
    key = base64.b32decode(shown + "=" * (-len(shown) % 8))
    page.get_by_label("Code").fill(app_code(key))
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.screenshot(path=str(artifacts / "two-factor-recovery-codes.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{panel.url}/login")
    page.get_by_label("User name").fill("ivy")
    page.get_by_label("Password").fill(IVY_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#code-form")).to_be_visible()
    page.screenshot(path=str(artifacts / "two-factor-sign-in.png"), full_page=True)
    page.get_by_label("Code").fill(app_code(key, later=30))  # the code now was used already
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account .username")).to_have_text("ivy")


def app_code(key: bytes, later: float = 0) -> str:
    """What an authenticator app shows, now or `later` seconds from now."""
    totp = TOTP(key)
    totp.time = time.time() + later
    return f"{totp.token():06d}"


def test_invite_a_member_by_mail_who_accepts(
    panel: RunningPanel, admin_page: Any, chromium: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    lab_services.start_receiver("smtp")
    lab_services.empty_inbox()
    page = admin_page
    page.goto(f"{panel.url}/team/members")
    page.get_by_label("Email").fill("ivy@example.com")
    page.get_by_label("Role", exact=True).select_option("deployer")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".messages")).to_contain_text("on its way to ivy@example.com")
    expect(page.locator("#invitation-table")).to_contain_text("ivy@example.com")
    page.screenshot(path=str(artifacts / "team-invitation-pending.png"), full_page=True)

    [mail] = lab_services.inbox("mail")
    body = email.message_from_string(mail["content"]).get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = re.search(r"(http://\S+/invitations/\S+)", body)
    assert link, body

    newcomer = chromium.new_page(viewport={"width": 1280, "height": 900})
    newcomer.goto(link.group(1))
    expect(newcomer.locator("#invitation")).to_contain_text("invites ivy@example.com")
    newcomer.screenshot(path=str(artifacts / "team-invitation-open.png"), full_page=True)
    newcomer.get_by_label("Username").fill("ivy")
    newcomer.get_by_label("Password", exact=True).fill(IVY_PASSWORD)
    newcomer.get_by_label("Password confirmation").fill(IVY_PASSWORD)
    newcomer.get_by_role("button", name="Create the account and join").click()
    expect(newcomer.locator(".messages")).to_contain_text("Welcome to")
    newcomer.screenshot(path=str(artifacts / "team-invitation-joined.png"), full_page=True)
    turn_on_two_factor_and_sign_in_with_a_code(newcomer, panel, artifacts)
    newcomer.close()

    page.reload()
    expect(page.locator("#member-table")).to_contain_text("ivy")
    expect(page.locator("#invitation-table")).to_have_count(0)
