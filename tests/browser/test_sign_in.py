"""A person signs in, sees the dashboard and follows a job's log live, in a real Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import RunningPanel

pytestmark = pytest.mark.browser


def test_the_first_admin_signs_in_and_follows_a_job_live(
    panel: RunningPanel,
    chromium: Any,
    artifacts: Path,
) -> None:
    from playwright.sync_api import expect

    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{panel.url}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.screenshot(path=str(artifacts / "sign-in.png"))

    page.get_by_label("User name").fill(panel.admin_user)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")

    page.get_by_label("Password").fill(panel.admin_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#dashboard-title")).to_have_text("Default")
    expect(page.locator("#recent-activity li").first).to_be_visible()
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="Audit", exact=True).click()
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator("#job-log")).to_contain_text("The audit chain is intact.", timeout=30_000)
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=30_000)
    page.screenshot(path=str(artifacts / "job-live-log.png"), full_page=True)

    page.get_by_role("link", name="Audit", exact=True).click()
    expect(page.locator("#audit-table")).to_contain_text("job.audit.verify")
    page.get_by_label("Action").fill("team.")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-table")).to_contain_text("team.create")
    page.close()
