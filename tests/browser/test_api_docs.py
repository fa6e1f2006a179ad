"""The API's page in a real Chromium, for a signed-in person: every operation is listed,
under the Content-Security-Policy, and one can be tried from the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import RunningPanel
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_the_api_page_lists_every_operation(panel: RunningPanel, admin_page: Any) -> None:
    from playwright.sync_api import expect

    violations: list[str] = []
    admin_page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    admin_page.goto(f"{panel.url}/api/v1/docs")
    operations = admin_page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 30
    admin_page.locator(".opblock-summary-path", has_text="/api/v1/apps").first.click()
    expect(admin_page.get_by_text("x-panel-action").first).to_be_visible()
    admin_page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=False)
    assert not violations
