"""In Chromium: add a lab host, confirm its fingerprint, check it, bootstrap it, run a command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from servers import keys
from tests.browser.conftest import RunningPanel
from tests.browser.steps import import_lab_key, wait_for_job
from tests.lab.images import service_image
from tests.lab.lab import Lab

pytestmark = pytest.mark.browser


def test_an_admin_adds_checks_bootstraps_and_runs_a_command_on_a_lab_host(
    panel: RunningPanel, admin_page: Any, lab: Lab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page, host = admin_page, lab.hosts[0]
    import_lab_key(page, panel.url, host)  # the first visit to "Add a server" asks for a key
    page.goto(f"{panel.url}/keys/")
    page.get_by_role("link", name="lab", exact=True).click()
    expect(page.locator("#authorized-keys-line")).to_have_value(
        f"{keys.import_private(host.client_key.read_text()).public_key} panel-lab"
    )

    page.goto(f"{panel.url}/servers/new")
    page.get_by_label("Name", exact=True).fill("web-lab1")
    page.get_by_label("Host", exact=True).fill(host.address)
    page.get_by_label("User", exact=True).fill(host.user)
    page.get_by_label("SSH key").select_option(label="lab")
    page.get_by_label("Labels").fill("web, lab")
    page.get_by_label("Proxy image").fill(service_image("caddy"))
    page.get_by_role("button", name="Add server").click()

    expected = keys.fingerprint(host.host_public_key)
    expect(page.locator("#offered-fingerprint")).to_have_text(expected)
    page.screenshot(path=str(artifacts / "server-confirm-host-key.png"), full_page=True)
    page.get_by_role("button", name="Confirm and trust").click()
    expect(page.locator(".messages")).to_contain_text("is trusted")

    page.locator("#check-button").click()
    wait_for_job(page, "Docker: ")
    page.get_by_role("link", name="Servers", exact=True).click()
    expect(page.locator("#server-table")).to_contain_text("reachable")
    page.get_by_role("link", name="web-lab1").click()
    expect(page.locator("#facts")).to_contain_text("Clock offset")
    page.screenshot(path=str(artifacts / "server-detail.png"), full_page=True)

    page.locator("#bootstrap-button").click()
    wait_for_job(page, "admin API answers")
    page.screenshot(path=str(artifacts / "server-bootstrap-log.png"), full_page=True)

    page.goto(f"{panel.url}/servers/")
    page.get_by_role("link", name="web-lab1").click()
    page.locator("#exec-link").click()
    page.get_by_label("Command").fill("for i in 1 2 3; do echo line-$i; sleep 0.3; done; id -un")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#job-log")).to_contain_text("[web-lab1] line-1", timeout=30_000)
    wait_for_job(page, f"[web-lab1] {host.user}")
    page.screenshot(path=str(artifacts / "server-exec-log.png"), full_page=True)

    page.get_by_role("link", name="Audit", exact=True).click()
    expect(page.locator("#audit-table")).to_contain_text("job.server.exec")
    expect(page.locator("#audit-table")).to_contain_text("server.host_key_trust")
