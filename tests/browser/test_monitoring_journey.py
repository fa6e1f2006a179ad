"""In Chromium, with the panel's own scheduler collecting: a server's charts over 24 hours;
a Redis beside it on the dashboard, "1 of 1 up"; a channel to the lab's mail sink; the Redis
stopped behind the panel's back, the open dashboard turning to "0 of 1 up" by itself, the alert
arriving by mail and acknowledged; the host's log file followed live, filtered."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import RunningPanel
from tests.browser.steps import add_server, wait_for_job
from tests.lab.hosts import docker_env
from tests.lab.images import service_image
from tests.lab.lab import Lab
from tests.lab.proc import sh
from tests.lab.services import MAIL_URL, empty_inbox, inbox

pytestmark = pytest.mark.browser
SERVER, CACHE = "watch-lab1", "watchcache"


def test_charts_a_live_dashboard_an_alert_by_mail_and_live_logs(
    panel: RunningPanel, admin_page: Any, lab: Lab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page, host = admin_page, lab.hosts[0]
    env = docker_env(host.spec)
    sh("docker", "rm", "-f", f"panel-accessory-{CACHE}", env=env, check=False)  # an earlier run's
    sh("docker", "volume", "rm", "-f", f"panel-accessory-{CACHE}-data", env=env, check=False)
    add_server(page, panel.url, host, SERVER)
    page.get_by_role("link", name="Accessories", exact=True).click()
    page.get_by_role("link", name="Add an accessory").click()
    page.get_by_label("Name", exact=True).fill(CACHE)
    page.get_by_label("Kind").select_option(label="Redis")
    page.get_by_label("Server").select_option(label=SERVER)
    page.get_by_label("Image").fill(service_image("redis"))
    page.get_by_role("button", name="Add accessory").click()
    page.locator("#boot-button").click()
    wait_for_job(page, f"{CACHE} is ready")

    page.get_by_role("link", name="Alerts", exact=True).click()
    page.locator("#channels-link").click()
    page.get_by_label("Name", exact=True).fill("ops-mail")
    page.get_by_label("apprise URL").fill(MAIL_URL)
    page.get_by_label("Container not running").check()
    page.get_by_role("button", name="Add channel").click()
    expect(page.locator("#channels")).to_contain_text("ops-mail")
    empty_inbox()

    page.get_by_role("link", name="Dashboard", exact=True).click()
    tile = page.locator("#server-tiles tr", has_text=SERVER)
    expect(tile).to_contain_text("1 of 1 up", timeout=90_000)  # the scheduler's rounds
    page.screenshot(path=str(artifacts / "monitoring-dashboard.png"), full_page=True)

    tile.get_by_role("link", name=SERVER).click()
    page.get_by_role("link", name="1h", exact=True).click()
    page.get_by_role("link", name="24h", exact=True).click()
    expect(page).to_have_url(f"{page.url.split('?')[0]}?range=24h")
    deadline = time.monotonic() + 90
    while not page.locator("#charts svg").count():  # a chart needs two rounds
        assert time.monotonic() < deadline, "no chart after 90 s of rounds"
        time.sleep(3)
        page.reload()
    expect(page.locator("#charts svg").first).to_be_visible()
    expect(page.locator("#health-state")).to_contain_text("reachable")
    page.screenshot(path=str(artifacts / "monitoring-charts.png"), full_page=True)

    page.get_by_role("link", name="Dashboard", exact=True).click()
    sh("docker", "stop", f"panel-accessory-{CACHE}", env=env)  # behind the panel's back
    expect(tile).to_contain_text("0 of 1 up", timeout=90_000)  # no reload: the page polls
    expect(tile).to_contain_text(f"not running: panel-accessory-{CACHE}")
    page.screenshot(path=str(artifacts / "monitoring-dashboard-down.png"), full_page=True)

    title = f"{SERVER}: panel-accessory-{CACHE} is not running"
    deadline = time.monotonic() + 60
    while not any(title in mail["content"] for mail in inbox("mail")):
        assert time.monotonic() < deadline, "no mail about the stopped container"
        time.sleep(0.5)
    page.get_by_role("link", name="Alerts", exact=True).click()
    row = page.locator("#open-alerts tr", has_text=title)
    expect(row).to_contain_text("sent")
    row.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messages")).to_contain_text("is acknowledged")
    expect(page.locator("#open-alerts tr", has_text=title)).to_contain_text("acknowledged")
    page.screenshot(path=str(artifacts / "monitoring-alert.png"), full_page=True)

    log = Path(f"/var/log/panel-journey-{uuid.uuid4().hex[:8]}.log")  # the hosts share this disk
    log.write_text("keep: first line\ndrop: noise\n")
    log.chmod(0o644)
    try:
        page.get_by_role("link", name="Dashboard", exact=True).click()
        tile.get_by_role("link", name=SERVER).click()
        page.locator("#logs-link").click()
        page.get_by_label("Or a file").fill(str(log))
        page.get_by_label("Lines holding").fill("keep")
        page.get_by_label("With its containers").uncheck()
        page.get_by_role("button", name="Follow").click()
        logs = page.locator("#server-logs")
        expect(logs).to_contain_text("keep: first line", timeout=20_000)
        with log.open("a") as more:
            more.write("drop: more noise\nkeep: <b>written later</b>\n")
        expect(logs).to_contain_text("keep: <b>written later</b>", timeout=20_000)
        expect(logs).not_to_contain_text("drop:")
        page.screenshot(path=str(artifacts / "monitoring-logs.png"), full_page=True)
    finally:
        log.unlink()
        sh("docker", "start", f"panel-accessory-{CACHE}", env=env, check=False)
