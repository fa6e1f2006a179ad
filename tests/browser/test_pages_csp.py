"""Every main page under the Content-Security-Policy in a real Chromium: no violation is
reported, so nothing the pages need is blocked and nothing inline slipped in."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import RunningPanel
from tests.browser.steps import import_lab_key
from tests.lab.lab import Lab

pytestmark = pytest.mark.browser

MAIN_PAGES = [
    "/",
    "/apps/",
    "/apps/new",
    "/accessories/",
    "/accessories/new",
    "/backups/",
    "/backups/repositories/new",
    "/servers/",
    "/servers/new",
    "/servers/exec",
    "/keys/",
    "/keys/new",
    "/jobs/",
    "/audit/",
    "/team/members",
    "/account/tokens",
    "/password/change",
]
# Detail pages are reached from these lists: every object the panel has by then.
LISTS = {"/apps/": "/apps/", "/servers/": "/servers/", "/keys/": "/keys/", "/jobs/": "/jobs/"}


def test_no_page_reports_a_policy_violation(panel: RunningPanel, chromium: Any, lab: Lab) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("dialog", lambda dialog: dialog.accept())
    visited: dict[str, list[str]] = {}

    def visit(path: str) -> None:
        response = page.goto(f"{panel.url}{path}")
        assert response is not None and response.status < 400, path
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
        page.wait_for_load_state("networkidle")
        visited[path] = page.evaluate("window.__violations")

    visit("/login")
    page.get_by_label("User name").fill(panel.admin_user)
    page.get_by_label("Password").fill(panel.admin_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{panel.url}/")
    import_lab_key(page, panel.url, lab.hosts[0])
    page.goto(f"{panel.url}/audit/")
    page.get_by_role("button", name="Verify chain").click()
    page.wait_for_url(f"{panel.url}/jobs/**")

    for path in MAIN_PAGES:
        visit(path)
    for list_path, prefix in LISTS.items():
        page.goto(f"{panel.url}{list_path}")
        links = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.href)")
        details = {urlsplit(link).path for link in links}
        for path in sorted(p for p in details if p.startswith(prefix) and p != prefix)[:6]:
            visit(path)

    assert any(path.startswith("/jobs/") and path != "/jobs/" for path in visited)
    assert not console, console
    assert not any(visited.values()), {p: v for p, v in visited.items() if v}
    page.close()
