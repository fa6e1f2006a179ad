"""The README's "Using it", followed as written on a panel of its own, from the first sign-in
to a deploy from the API; a screenshot of every page on the way (test-artifacts/readme-*)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import keys
from tests.browser.conftest import running_panel
from tests.browser.steps import fill_new_app, wait_for_job
from tests.browser.test_apps_journey import visit
from tests.lab.images import service_image
from tests.lab.lab import Lab

pytestmark = pytest.mark.browser


def test_the_readme_from_a_fresh_panel_to_a_deploy_from_the_api(
    chromium: Any, lab: Lab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    host, domain = lab.hosts[0], f"readme.{lab.hosts[0].name}.test"
    shots = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(
            path=str(artifacts / f"readme-{next(shots):02d}-{name}.png"), full_page=True
        )

    with running_panel(lab, redis_db=3) as panel:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(panel.url)
        shot("sign-in")
        page.get_by_label("User name").fill(panel.admin_user)
        page.get_by_label("Password").fill(panel.admin_password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("#dashboard-title")).to_be_visible()
        shot("dashboard")

        # 1. SSH key: Servers → SSH keys → Add a key.
        page.get_by_role("link", name="Servers", exact=True).click()
        page.get_by_role("link", name="SSH keys", exact=True).click()
        page.get_by_role("link", name="Add a key").click()
        page.get_by_label("Name").fill("main")
        page.get_by_label("Private key to import").fill(host.client_key.read_text())
        shot("key-form")
        page.get_by_role("button", name="Save key").click()
        expect(page.locator("#authorized-keys-line")).to_be_visible()
        shot("key")

        # 2. Server: host, port and user; the panel reads the host key; confirm; Check;
        # Bootstrap.
        page.get_by_role("link", name="Servers", exact=True).click()
        page.get_by_role("link", name="Add a server").click()
        page.get_by_label("Name", exact=True).fill("web-1")
        page.get_by_label("Host", exact=True).fill(host.address)
        page.get_by_label("User", exact=True).fill(host.user)
        page.get_by_label("Proxy image").fill(service_image("caddy"))
        shot("server-form")
        page.get_by_role("button", name="Add server").click()
        expected = keys.fingerprint(keys.public_key_line(host.host_public_key))
        expect(page.locator("#offered-fingerprint")).to_have_text(expected)
        shot("server-confirm-host-key")
        page.get_by_role("button", name="Confirm and trust").click()
        page.locator("#check-button").click()
        wait_for_job(page, "Docker: ")
        shot("server-check-job")
        page.get_by_role("link", name="web-1").click()
        page.locator("#bootstrap-button").click()
        wait_for_job(page, "admin API answers")
        shot("server-bootstrap-job")

        # 3. App: image, registry login, domains, servers per role; variables; the Plan; a
        # deploy of a tag, the next one, a roll back.
        page.get_by_role("link", name="Apps", exact=True).click()
        page.locator("#add-app").click()
        expect(page.get_by_label("web-1", exact=True).first).to_be_checked()  # the only server
        fill_new_app(page, lab, "readme", domain, "web-1")
        shot("app-form")
        page.get_by_role("button", name="Create app").click()
        expect(page.locator(".messages")).to_contain_text("is created")
        shot("app")

        page.get_by_role("link", name="Environment").click()
        page.get_by_label("Name").fill("GREETING")
        page.get_by_label("Value").fill("readme-secret-value")
        page.get_by_label("Secret").check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#env-table")).to_contain_text("GREETING")
        shot("environment")

        page.get_by_role("link", name="Plan").click()
        page.get_by_label("Image tag").fill("v1")
        page.get_by_role("button", name="Show the plan").click()
        expect(page.locator("main")).to_contain_text("Switch the proxy")
        assert "readme-secret-value" not in page.content()
        shot("plan")
        page.locator("#plan-deploy").click()
        wait_for_job(page, "readme v1 is live.")
        shot("deploy-v1-job")
        assert visit(chromium, domain) == "v1"

        page.locator("#job-target").click()
        page.locator("#id_version").fill("v2")
        page.locator("#deploy-button").click()
        wait_for_job(page, "readme v2 is live.")
        assert visit(chromium, domain) == "v2"
        page.locator("#job-target").click()
        shot("app-with-releases")
        page.locator("#releases tr", has_text="v1").get_by_role("button", name="Roll back").click()
        wait_for_job(page, "readme v1 is live.")
        shot("rollback-job")
        assert visit(chromium, domain) == "v1"

        page.get_by_role("link", name="Jobs", exact=True).click()
        shot("jobs")
        page.get_by_role("link", name="Audit", exact=True).click()
        expect(page.locator("#audit-table")).to_contain_text("release.live")
        shot("audit")

        # 4. API: a token with the deploy scope, then what CI runs.
        page.locator("#api-tokens").click()
        page.get_by_label("Name").fill("ci")
        expect(page.get_by_label("Scope")).to_have_value("deploy")
        page.get_by_role("button", name="Create token").click()
        token = page.locator("#token-secret").input_value()
        shot("token")
        headers = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(
            f"{panel.url}/api/v1/apps/readme/deploy", json={"tag": "v2"}, headers=headers
        )
        assert answer.status_code == 202, answer.text
        status_url = f"{panel.url}{answer.json()['status_url']}"
        deadline = time.monotonic() + 120
        while (job := httpx.get(status_url, headers=headers).json())["status"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["status"] == "succeeded", job
        assert visit(chromium, domain) == "v2"
        page.goto(f"{panel.url}/jobs/{job['id']}")
        expect(page.locator("#job-status")).to_have_text("Succeeded")
        shot("api-deploy-job")

        page.locator("#change-password").click()
        expect(page.get_by_label("Old password")).to_be_visible()
        shot("change-password")
        page.close()
