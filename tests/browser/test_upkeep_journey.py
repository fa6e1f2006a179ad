"""In Chromium, on the Debian lab host: add it, check for updates (the demo package, a
security update), upgrade with "reboot if required", watch apt's output and the reboot in
the job log, and find the server back and up to date; then upload one's own SSH key, grant
oneself a login on the server, and log in with that key; read its security report, and put
its firewall in place from there."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from tests.browser.conftest import RunningPanel
from tests.browser.steps import import_lab_key, wait_for_job
from tests.lab import debhost
from tests.lab.debhost import DebianHost
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

    own_key = asyncssh.generate_private_key("ssh-ed25519")
    page.locator("#ssh-keys").click()
    page.get_by_label("Name", exact=True).fill("laptop")
    page.get_by_label("Public key").fill(own_key.export_public_key().decode())
    page.get_by_role("button", name="Add key").click()
    expect(page.locator("#member-key-table")).to_contain_text("laptop")
    page.goto(updates_url.replace("/updates", "/access"))
    page.get_by_label("Member").select_option(label=panel.admin_user)
    page.get_by_label("Login").fill(host.plain_user)
    page.get_by_role("button", name="Grant").click()
    deadline = time.monotonic() + 60
    while not page.locator("#access-logins").get_by_text("1 key in the panel's block").count():
        assert time.monotonic() < deadline, "the grant did not reach the server in 60 s"
        time.sleep(1)
        page.reload()
    expect(page.locator(f"#drift-{host.plain_user}")).to_have_count(0)
    page.screenshot(path=str(artifacts / "upkeep-access.png"), full_page=True)
    assert _logs_in(host, host.plain_user, own_key)

    page.get_by_role("link", name=f"Back to {SERVER}").click()
    page.locator("#security-link").click()
    expect(page.locator("#finding-ssh-passwords")).to_contain_text("SSH accepts passwords")
    expect(page.locator("#finding-updates")).to_contain_text("No security update pending")
    page.screenshot(path=str(artifacts / "upkeep-security.png"), full_page=True)

    page.locator("#finding-firewall").get_by_role("link", name="Firewall…").click()
    expect(page.get_by_label("Allowed ports")).to_have_value("22/tcp")  # SSH first, always
    page.locator("#firewall-save").click()
    expect(page.locator("#firewall-script")).to_contain_text("-A PANEL-DOCKER -j DROP")
    page.locator("#firewall-apply").click()
    wait_for_job(page, "the panel's SSH answered through them")
    page.goto(updates_url.replace("/updates", "/firewall"))
    expect(page.locator("#firewall-no-drift")).to_be_visible()
    page.screenshot(path=str(artifacts / "upkeep-firewall.png"), full_page=True)


def _logs_in(host: DebianHost, login: str, key: asyncssh.SSHKey) -> bool:
    async def attempt() -> bool:
        known = asyncssh.import_known_hosts(f"{host.address} {host.host_public_key}\n")
        async with asyncssh.connect(host.address, username=login, client_keys=[key],
                                    known_hosts=known, config=None, agent_path=None,
                                    connect_timeout=10) as connection:  # fmt: skip
            return (await connection.run("true", check=False)).exit_status == 0

    with ThreadPoolExecutor(1) as aside:  # Playwright holds this thread's event loop
        return aside.submit(asyncio.run, attempt()).result()
