"""In Chromium, on the Debian lab host: add it, check for updates (the demo package, a
security update), upgrade with "reboot if required", watch apt's output and the reboot in
the job log, and find the server back and up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import RunningPanel
from tests.browser.steps import import_lab_key, wait_for_job
from tests.lab import debhost
from tests.lab.lab import Lab

pytestmark = pytest.mark.browser
SERVER = "upkeep-deb1"


def test_check_upgrade_reboot_and_back(
    panel: RunningPanel, admin_page: Any, lab: Lab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page, host = admin_page, lab.debian
    assert host is not None
    debhost.start()  # the demo package at 1.0 again
    import_lab_key(page, panel.url, host)  # type: ignore[arg-type]
    page.goto(f"{panel.url}/servers/new")
    page.get_by_label("Name", exact=True).fill(SERVER)
    page.get_by_label("Host", exact=True).fill(host.address)
    page.get_by_label("User", exact=True).fill(host.user)
    page.get_by_label("SSH key").select_option(label="lab")
    page.get_by_role("button", name="Add server").click()
    page.get_by_role("button", name="Confirm and trust").click()

    page.locator("#updates-link").click()
    expect(page.locator("#updates-never")).to_be_visible()
    updates_url = page.url
    page.locator("#updates-check-button").click()
    wait_for_job(page, "1 upgradable, 1 of them security updates.")
    page.goto(updates_url)
    expect(page.locator("#updates-table")).to_contain_text("panel-demo")
    expect(page.locator("#updates-table")).to_contain_text("security")
    page.screenshot(path=str(artifacts / "upkeep-updates.png"), full_page=True)

    page.get_by_label("Reboot if the upgrade requires it").check()
    page.locator("#upgrade-button").click()
    wait_for_job(page, "is back and everything the panel runs there is running", 240_000)
    log = page.locator("#job-log")
    expect(log).to_contain_text("Setting up panel-demo (1.1)")
    expect(log).to_contain_text("panel-demo 1.0 → 1.1")
    expect(log).to_contain_text("back after")
    page.screenshot(path=str(artifacts / "upkeep-upgrade-job.png"), full_page=True)

    page.goto(updates_url)
    expect(page.locator("#updates-summary")).to_contain_text("up to date")
    expect(page.locator("#reboot-required")).to_have_count(0)
    page.screenshot(path=str(artifacts / "upkeep-after.png"), full_page=True)
