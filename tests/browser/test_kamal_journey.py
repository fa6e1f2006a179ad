"""In Chromium, on a fresh panel: paste a Kamal config/deploy.yml with a PostgreSQL
accessory, read the review, fill in the secret, create; confirm the new server's host key,
bootstrap it, boot the accessory, deploy; the app serves on the lab host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import running_panel
from tests.browser.steps import import_lab_key, remove_leftovers, sign_in, wait_for_job
from tests.lab.images import service_image
from tests.lab.lab import Lab

pytestmark = pytest.mark.browser


def kamal_config(lab: Lab, host: Any, domain: str) -> str:
    registry, image = lab.app_images["v1"].rsplit(":", 1)[0].split("/", 1)
    return f"""\
service: kamalshop
image: {image}
servers:
  web:
    hosts:
      - {host.address}
proxy:
  host: {domain}
  healthcheck:
    path: /up
registry:
  server: {registry}
  username: {lab.registry_user}
  password:
    - KAMAL_REGISTRY_PASSWORD
env:
  clear:
    GREETING: hello
builder:
  arch: amd64
ssh:
  user: {host.user}
deploy_timeout: 20
drain_timeout: 1
accessories:
  kamaldb:
    image: {service_image("postgres")}
    host: {host.address}
    env:
      secret:
        - POSTGRES_PASSWORD
x-team: payments
"""


def test_import_a_kamal_app_and_deploy_it(chromium: Any, lab: Lab, artifacts: Path) -> None:
    from playwright.sync_api import expect

    host = lab.hosts[1]
    domain = f"kamalshop.{host.name}.test"
    remove_leftovers(host, app="kamalshop", accessory="kamaldb")
    proxy = {"PANEL_PROXY_IMAGE": service_image("caddy")}
    with running_panel(lab, redis_db=5, **proxy) as panel:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())
        sign_in(page, panel.url, panel.admin_user, panel.admin_password)
        import_lab_key(page, panel.url, host)

        page.goto(f"{panel.url}/apps/")
        page.locator("#import-kamal").click()
        page.get_by_label("config/deploy.yml").fill(kamal_config(lab, host, domain))
        page.get_by_role("button", name="Review").click()
        expect(page.locator("#review-mapped")).to_contain_text("a postgres accessory")
        expect(page.locator("#review-different")).to_contain_text("POSTGRES_PASSWORD")
        page.screenshot(path=str(artifacts / "kamal-import-review.png"), full_page=True)
        page.get_by_label("KAMAL_REGISTRY_PASSWORD").fill(lab.registry_password)
        page.get_by_role("button", name="Create kamalshop").click()
        expect(page.locator(".messages")).to_contain_text("kamalshop is imported")
        assert lab.registry_password not in page.content()

        page.get_by_role("link", name="Servers", exact=True).click()
        page.get_by_role("link", name=host.address.replace(".", "-"), exact=True).click()
        page.get_by_role("button", name="Fetch host key again").click()
        page.get_by_role("button", name="Confirm and trust").click()
        page.locator("#bootstrap-button").click()
        wait_for_job(page, "admin API answers")

        page.get_by_role("link", name="Accessories", exact=True).click()
        page.get_by_role("link", name="kamaldb", exact=True).click()
        page.locator("#boot-button").click()
        wait_for_job(page, "kamaldb is ready")

        page.get_by_role("link", name="Apps", exact=True).click()
        page.get_by_role("link", name="kamalshop", exact=True).click()
        page.locator("#id_version").fill("v1")
        page.locator("#deploy-button").click()
        wait_for_job(page, "kamalshop v1 is live.")
        visitor = chromium.new_page()
        try:
            visitor.goto(f"http://{domain}/")
            assert visitor.locator("body").inner_text().strip() == "v1"
        finally:
            visitor.close()

        page.get_by_role("link", name="kamalshop", exact=True).first.click()
        page.get_by_role("link", name="As Kamal").click()
        expect(page.locator("#kamal-deploy textarea")).to_contain_text("x-team: payments")
        expect(page.locator("#kamal-deploy textarea")).to_contain_text("kamaldb:")
        page.screenshot(path=str(artifacts / "kamal-export.png"), full_page=True)
