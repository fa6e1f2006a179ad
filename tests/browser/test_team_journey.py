"""In Chromium: the owner invites a member by mail; the mail reaches the lab's SMTP sink; in a
browser of their own the new member opens the link, creates their account and is in."""

from __future__ import annotations

import email
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import RunningPanel
from tests.browser.steps import turn_on_two_factor_and_sign_in_with_a_code
from tests.lab import services as lab_services

pytestmark = pytest.mark.browser
IVY_PASSWORD = "ivy's long passphrase 7"


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
    turn_on_two_factor_and_sign_in_with_a_code(newcomer, panel.url, artifacts, "ivy", IVY_PASSWORD)
    newcomer.close()

    page.reload()
    expect(page.locator("#member-table")).to_contain_text("ivy")
    expect(page.locator("#invitation-table")).to_have_count(0)
