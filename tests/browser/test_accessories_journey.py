"""In Chromium: add PostgreSQL from its template, boot it, link it to an app of the lab's
database-checking image, deploy the app and see it connected over the network, watch the
accessory's live log, count its databases with a command inside it; back it up to S3, verify
the backup restores, and after a table is dropped, restore to a scratch copy and make it live."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import RunningPanel
from tests.browser.steps import (
    add_server,
    fill_new_app,
    open_app,
    remove_leftovers,
    wait_for_job,
)
from tests.lab.images import service_image
from tests.lab.lab import Lab
from tests.lab.services import S3_ON_BRIDGE

pytestmark = pytest.mark.browser


def test_a_postgres_linked_into_an_app(
    panel: RunningPanel, admin_page: Any, chromium: Any, lab: Lab, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page, host = admin_page, lab.hosts[0]
    remove_leftovers(host, app="notes", accessory="notesdb")
    add_server(page, panel.url, host, "data-lab1")

    page.get_by_role("link", name="Accessories", exact=True).click()
    page.get_by_role("link", name="Add an accessory").click()
    page.get_by_label("Name", exact=True).fill("notesdb")
    page.get_by_label("Kind").select_option(label="PostgreSQL")
    page.get_by_label("Server").select_option(label="data-lab1")
    page.get_by_label("Image").fill(service_image("postgres"))  # the lab's, built from Debian
    page.screenshot(path=str(artifacts / "accessory-new.png"), full_page=True)
    page.get_by_role("button", name="Add accessory").click()
    expect(page.locator(".messages")).to_contain_text("generated password")
    page.locator("#boot-button").click()
    wait_for_job(page, "notesdb is ready")

    domain = f"notes.{host.name}.test"
    fill_new_app(page, lab, "notes", domain, "data-lab1")
    page.get_by_label("Image").fill(lab.dbapp_image.rsplit(":", 1)[0])
    page.get_by_role("button", name="Create app").click()
    expect(page.locator(".messages")).to_contain_text("is created")

    page.get_by_role("link", name="Accessories", exact=True).click()
    page.get_by_role("link", name="notesdb", exact=True).click()
    expect(page.locator("#link-form")).to_be_visible()
    page.locator("#link-form").get_by_label("App").select_option(label="notes")
    page.locator("#link-button").click()
    wait_for_job(page, "Redeploy notes to use it.")
    page.get_by_role("link", name="notesdb").first.click()
    expect(page.locator("#links")).to_contain_text("redeploy notes to use it")
    expect(page.locator("#now")).to_contain_text("running", timeout=20_000)
    page.screenshot(path=str(artifacts / "accessory-linked.png"), full_page=True)

    open_app(page, "notes")
    page.locator("#id_version").fill("v1")
    page.locator("#deploy-button").click()
    wait_for_job(page, "notes v1 is live.")
    visitor = chromium.new_page()
    try:
        visitor.goto(f"http://{domain}/cgi-bin/db")
        assert "DATABASE_URL: connected (1)" in visitor.locator("body").inner_text()
        visitor.screenshot(path=str(artifacts / "accessory-app-connected.png"))
    finally:
        visitor.close()

    page.get_by_role("link", name="Accessories", exact=True).click()
    page.get_by_role("link", name="notesdb", exact=True).click()
    expect(page.locator("#links")).not_to_contain_text("redeploy notes")
    expect(page.locator("#accessory-logs")).to_contain_text("ready to accept", timeout=20_000)
    page.screenshot(path=str(artifacts / "accessory-detail.png"), full_page=True)
    page.get_by_label("Command").fill(
        "psql -U postgres -tAc 'SELECT count(*) FROM pg_database WHERE datname = $$notes$$'"
    )
    page.locator("#exec-button").click()
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator("#job-log")).to_contain_text("] 1")
    page.screenshot(path=str(artifacts / "accessory-exec.png"), full_page=True)

    # An S3 repository, a backup now, a schedule, a scratch copy made the live data again.
    page.get_by_role("link", name="Backups", exact=True).click()
    page.locator("#add-repository").click()
    page.get_by_label("Name", exact=True).fill("offsite")
    page.get_by_label("Where").select_option(label="S3-compatible storage")
    page.get_by_label("Endpoint", exact=True).fill(S3_ON_BRIDGE)
    page.get_by_label("Bucket", exact=True).fill("panel-backups")
    page.get_by_label("Folder in the bucket").fill(f"journey/{uuid.uuid4().hex}")
    page.get_by_label("Access key").fill("panel-journey")
    page.get_by_label("Secret key").fill("journey-secret-key")
    page.get_by_label("restic image").fill(service_image("restic"))
    page.get_by_role("button", name="Add repository").click()
    expect(page.locator(".messages")).to_contain_text("offsite is added")
    page.get_by_role("link", name="Accessories", exact=True).click()
    page.get_by_role("link", name="notesdb", exact=True).click()
    _in_notesdb(page, "CREATE TABLE visits AS SELECT generate_series(1, 42) AS n")
    page.get_by_role("link", name="notesdb").first.click()
    page.locator("#backup-button").click()
    wait_for_job(page, "Snapshot ")
    page.get_by_role("link", name="Backups", exact=True).click()
    page.get_by_role("link", name="offsite", exact=True).click()
    page.locator("#refresh-button").click()
    wait_for_job(page, "offsite holds 1 snapshot(s)")
    page.get_by_role("link", name="Backups", exact=True).click()
    page.get_by_role("link", name="offsite", exact=True).click()
    expect(page.locator("#snapshots")).to_contain_text("accessory:notesdb")
    page.screenshot(path=str(artifacts / "backups-repository.png"), full_page=True)
    page.get_by_role("link", name="Accessories", exact=True).click()
    page.get_by_role("link", name="notesdb", exact=True).click()
    page.locator("#backups summary", has_text="Add a schedule").click()
    page.get_by_label("offsite").check()
    page.get_by_role("button", name="Add schedule").click()
    expect(page.locator("#policies")).to_contain_text("At 03:00 AM")
    expect(page.locator("#policies")).to_contain_text("At 05:00 AM, only on Sunday")
    page.locator("#verify-button").click()
    wait_for_job(page, "Verified: snapshot")
    page.get_by_role("link", name="notesdb").first.click()
    expect(page.locator("#verified")).to_contain_text("passed")
    _in_notesdb(page, "DROP TABLE visits")  # the mistake a restore is for
    page.get_by_role("link", name="notesdb").first.click()
    page.locator("#backups button", has_text="Restore to a scratch copy").first.click()
    wait_for_job(page, "restored without an error")
    page.get_by_role("link", name="notesdb").first.click()
    expect(page.locator("#scratch")).to_contain_text("notes.public.visits 42")
    page.locator("#promote summary").click()
    page.screenshot(path=str(artifacts / "accessory-backups.png"), full_page=True)
    page.get_by_label("to replace its live data").fill("notesdb")
    page.locator("#promote-button").click()
    wait_for_job(page, "notesdb now serves snapshot")
    page.screenshot(path=str(artifacts / "accessory-promoted.png"), full_page=True)
    page.get_by_role("link", name="notesdb").first.click()
    _in_notesdb(page, "SELECT count(*) FROM visits")
    expect(page.locator("#job-log")).to_contain_text("] 42")

    # Unlink dropping the database (its name typed), then remove it with its data.
    page.get_by_role("link", name="Accessories", exact=True).click()
    page.get_by_role("link", name="notesdb", exact=True).click()
    page.locator("#links summary", has_text="Unlink").click()
    page.get_by_label("Also drop its database and user").check()
    page.get_by_label("To drop them, type its name").fill("notes")
    page.locator("#links").get_by_role("button", name="Unlink").click()
    wait_for_job(page, "its data and user are dropped")
    page.get_by_role("link", name="notesdb").first.click()
    page.get_by_label("Also remove its data").check()
    page.get_by_label("To remove its data, type its name").fill("notesdb")
    page.locator("#remove-button").click()
    wait_for_job(page, "notesdb is removed.")
    open_app(page, "notes")
    page.get_by_role("button", name="Remove this app").click()
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=60_000)


def _in_notesdb(page: Any, statement: str) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Command").fill(f"psql -U postgres -d notes -tAc '{statement}'")
    page.locator("#exec-button").click()
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=60_000)
