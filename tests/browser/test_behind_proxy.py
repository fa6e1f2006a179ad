"""The panel behind a TLS proxy at its base URL, as it runs in production: a real Caddy in
front, Chromium at `https://panel.test:<port>`. Signing in, turning two-factor sign-in on,
signing in with a code, and posting forms all pass the CSRF origin check (trusted origins
and allowed hosts come from PANEL_BASE_URL alone)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_FLAGS, caddy_in_front, running_panel
from tests.browser.steps import sign_in, turn_on_two_factor_and_sign_in_with_a_code
from tests.conftest import ARTIFACTS
from tests.lab.lab import Lab
from tests.lab.proc import free_port

pytestmark = pytest.mark.browser


def test_sign_in_two_factor_and_forms_work_through_the_proxy(
    lab: Lab, chromium: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    port = free_port()
    base = f"https://panel.test:{port}"
    with (
        running_panel(lab, redis_db=4, base_url=base, PANEL_TRUSTED_PROXY_COUNT="1") as panel,
        caddy_in_front(port, panel.url.removeprefix("http://")),
    ):
        browser = chromium.browser_type.launch(
            executable_path=shutil.which("chromium"),
            args=[*CHROMIUM_FLAGS, "--host-resolver-rules=MAP panel.test 127.0.0.1"],
        )
        page = browser.new_page(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        sign_in(page, base, panel.admin_user, panel.admin_password)
        page.wait_for_url(f"{base}/")

        turn_on_two_factor_and_sign_in_with_a_code(
            page, base, tmp_path, panel.admin_user, panel.admin_password
        )
        page.goto(f"{base}/account/tokens")
        page.get_by_label("Name").fill("through-the-proxy")
        page.get_by_role("button", name="Create token").click()
        expect(page.locator("#token-secret")).to_be_visible()
        page.goto(f"{base}/audit/")
        expect(page.locator("main")).to_contain_text("through-the-proxy")
        page.screenshot(path=str(ARTIFACTS / "behind-proxy-audit.png"), full_page=True)
        browser.close()
