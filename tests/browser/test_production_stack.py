"""The production install, proven on the lab: the panel's image built as production builds it,
compose.yaml brought up with Debian's docker-compose, a real Caddy in front. No page before the
first admin; then, in Chromium: sign in, add a lab host, deploy an app built from git over SSH,
back up the panel's database; `down` and `up` keep it all; an upgrade to an image with a new
migration keeps the data and the record of a job the upgrade cut short."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_FLAGS, caddy_in_front, lab_host_rules
from tests.browser.steps import (
    add_server,
    fill_app,
    open_app,
    remove_leftovers,
    sign_in,
    wait_for_job,
)
from tests.conftest import ARTIFACTS
from tests.deployments.test_git_lab import commit, new_repo, served_over_ssh
from tests.lab import panel_stack
from tests.lab.images import service_image
from tests.lab.lab import Lab
from tests.lab.proc import free_port, wait_for

pytestmark = [pytest.mark.lab, pytest.mark.browser]

NEXT_MIGRATION = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("panel", "{latest}")]
    operations = [
        migrations.RunSQL(
            "CREATE TABLE panel_upgrade_probe (id integer)", "DROP TABLE panel_upgrade_probe"
        )
    ]
"""


@pytest.fixture(scope="module")
def panel_image() -> str:
    return panel_stack.build_panel_image()


def next_version(image: str) -> str:
    """The panel's image with one migration more, as its next release would bring."""
    folder = panel_stack.ROOT / "panel" / "migrations"
    latest = max(path.stem for path in folder.glob("0*.py"))
    source = NEXT_MIGRATION.format(latest=latest)
    return panel_stack.with_migration(image, "panel-lab/panel:next", "panel", "9000_probe", source)


def push(work: Path, served: Path) -> None:
    """Push to the served repository (ours while pushing: git refuses one owned by another)."""
    owner = served.owner()
    subprocess.run(["chown", "-R", "root:root", str(served)], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", str(served), "main"], check=True)
    subprocess.run(["chown", "-R", f"{owner}:{owner}", str(served)], check=True)


def wait_for_log(stack: panel_stack.Stack, service: str, text: str) -> None:
    wait_for(lambda: text in stack.logs(service), f"{text!r} in the {service} log", 180, 1)


def create_git_app(page: Any, base: str, name: str, url: str, domain: str, server: str) -> None:
    page.goto(f"{base}/apps/new")
    fill_app(page, name, f"panel-lab/{name}", domain, server)
    page.get_by_text("Build from git instead").click()
    page.get_by_label("Git repository").fill(url)
    page.get_by_label("Branch", exact=True).fill("main")
    page.get_by_label("Deploy key").select_option(label="lab")
    page.get_by_role("button", name="Create app").click()


def back_up_the_panel(page: Any, base: str, server: str, folder: Path) -> None:
    page.goto(f"{base}/backups/repositories/new")
    page.get_by_label("Name").fill("panel-smoke")
    page.get_by_label("Where").select_option("local")
    page.get_by_label("Server").select_option(label=server)
    page.get_by_label("Folder", exact=True).fill(str(folder))
    page.get_by_label("restic image").fill(service_image("restic"))
    page.get_by_role("button", name="Add repository").click()
    page.goto(f"{base}/backups/panel")
    page.get_by_label("Repository").select_option(label="panel-smoke")
    page.get_by_label("Through").select_option(label=server)
    page.get_by_role("button", name="Back it up on this schedule").click()
    page.locator("#panel-backup-button").click()
    wait_for_job(page, "of the panel's database")


def test_the_production_stack_from_first_start_to_an_upgrade(
    lab: Lab, chromium: Any, panel_image: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    host = lab.hosts[2]
    domain = f"smoke.{host.name}.test"
    remove_leftovers(host, app="smoke")
    work = tmp_path / "smoke"
    new_repo(work, "smoke-one")
    git_url, served = served_over_ssh(lab.hosts[1], work)
    backups = Path(f"/tmp/panel-smoke-{uuid.uuid4().hex[:6]}")  # on the lab host
    port = free_port()
    base = f"https://panel.test:{port}"
    stack = panel_stack.Stack.create("panelsmoke", panel_image, lab.registry, base)
    try:
        started = time.monotonic()
        stack.up()
        wait_for_log(stack, "web", "No account exists yet")
        assert not stack.healthy()  # nothing is served before the first admin exists
        password = stack.ensure_admin()
        stack.wait_until_up()
        print(f"first start to /up (the first admin made): {time.monotonic() - started:.0f} s")

        browser = chromium.browser_type.launch(
            executable_path=shutil.which("chromium"),
            args=[
                *CHROMIUM_FLAGS,
                f"--host-resolver-rules=MAP panel.test 127.0.0.1, {lab_host_rules(lab)}",
            ],
        )
        with caddy_in_front(port, f"127.0.0.1:{stack.port}"):
            page = browser.new_page(
                ignore_https_errors=True, viewport={"width": 1280, "height": 900}
            )
            page.on("dialog", lambda dialog: dialog.accept())
            sign_in(page, base, "admin", password)
            page.wait_for_url(f"{base}/")
            add_server(page, base, host, "smoke-host")

            create_git_app(page, base, "smoke", git_url, domain, "smoke-host")
            page.locator("#deploy-button").click()
            wait_for_job(page, "is live.")
            visitor = browser.new_page()
            visitor.goto(f"http://{domain}/")
            assert visitor.locator("body").inner_text().strip() == "smoke-one"
            back_up_the_panel(page, base, "smoke-host", backups)

            stack.compose("down")
            stack.up()
            stack.wait_until_up()
            page.goto(f"{base}/backups/panel")
            expect(page.locator("#panel-runs")).to_contain_text("Succeeded")
            open_app(page, "smoke")
            expect(page.locator("main")).to_contain_text("show smoke-one")

            # A deploy whose build is still running when the panel is upgraded under it.
            slow = f"FROM panel-lab/app:v1\nRUN echo {uuid.uuid4().hex} && sleep 120\n"  # no cache
            commit(work, "smoke-two", slow)
            push(work, served)
            page.locator("#deploy-button").click()
            expect(page.locator("#job-status")).to_have_text("Running", timeout=60_000)
            job_page = page.url
            stack.variables["PANEL_IMAGE"] = next_version(panel_image)
            stack.up()
            stack.wait_until_up()
            assert "[X] 9000_probe" in stack.manage("showmigrations", "panel")
            page.goto(job_page)
            expect(page.locator("#job-status")).to_have_text("Interrupted", timeout=180_000)
            expect(page.locator("#job-log")).to_contain_text("started on")
            page.screenshot(path=str(ARTIFACTS / "production-upgrade-job.png"), full_page=True)
            visitor.goto(f"http://{domain}/")
            assert visitor.locator("body").inner_text().strip() == "smoke-one"
        browser.close()
    finally:
        stack.remove()
        remove_leftovers(host, app="smoke")
        shutil.rmtree(served, ignore_errors=True)
        shutil.rmtree(backups, ignore_errors=True)
