"""In Chromium: write a runbook (a checklist item, then an HTTP request with a secret to the
lab's webhook receiver), run it, see it wait for a person, confirm the step, and watch it
finish; the receiver got the request and the page never shows the secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import RunningPanel
from tests.browser.steps import wait_for_job
from tests.lab import services as lab_services
from tests.lab.lab import Lab

pytestmark = pytest.mark.browser
SECRET = "journey-4b7c-secret"
STEPS = f"""\
- check: Tell the team the drill starts
- http: POST http://127.0.0.1:{lab_services.WEBHOOK_PORT}/hooks/journey
  body: '{{"token": "${{HOOK_TOKEN}}"}}'
- wait: 1
"""


def test_a_runbook_waits_for_a_person_and_goes_on(
    panel: RunningPanel, admin_page: Any, lab: Lab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = admin_page
    lab_services.empty_inbox()
    page.goto(f"{panel.url}/runbooks/")
    expect(page.locator("#starters")).to_contain_text("Rotate the panel's SSH key")
    page.locator("#new-runbook").click()
    page.get_by_label("Name", exact=True).fill("drill")
    page.get_by_label("Steps", exact=True).fill(STEPS)
    page.get_by_label("Secrets", exact=True).fill(f"HOOK_TOKEN={SECRET}")
    page.get_by_label("HTTP steps may reach the panel's own machine", exact=False).check()
    page.locator("#runbook-save").click()
    expect(page.locator("#runbook-steps")).to_contain_text("A person confirms")
    expect(page.locator("body")).not_to_contain_text(SECRET)
    page.screenshot(path=str(artifacts / "runbook-detail.png"), full_page=True)

    page.locator("#runbook-run").click()
    expect(page.locator("#job-status")).to_have_text("Waiting", timeout=60_000)
    expect(page.locator("#runbook-waiting")).to_contain_text("Tell the team the drill starts")
    page.screenshot(path=str(artifacts / "runbook-waiting.png"), full_page=True)
    assert lab_services.inbox("hook") == []

    page.locator("#runbook-confirm").click()
    wait_for_job(page, "All 3 steps done.")
    expect(page.locator("#job-log")).to_contain_text("Confirmed by")
    expect(page.locator("#job-log")).to_contain_text("→ 200")
    expect(page.locator("body")).not_to_contain_text(SECRET)
    page.screenshot(path=str(artifacts / "runbook-done.png"), full_page=True)
    assert [x["path"] for x in lab_services.inbox("hook")] == ["/hooks/journey"]
