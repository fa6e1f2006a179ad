"""In Chromium: an app built from a git repository; deploy (the build streams live), commit
again, deploy again, roll back, run a command in the live release."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import RunningPanel
from tests.browser.steps import add_server, open_app, wait_for_job
from tests.browser.test_apps_journey import visit
from tests.lab.lab import Lab

pytestmark = pytest.mark.browser


def commit(repo: Path, body: str, build_step: str = "") -> None:
    (repo / "Dockerfile").write_text(
        f"FROM panel-lab/app:v1\n{build_step}COPY index.html /www/index.html\n"
    )
    (repo / "index.html").write_text(body + "\n")
    git = ["git", "-C", str(repo), "-c", "user.name=lab", "-c", "user.email=lab@example.com"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", f"Say {body}"], check=True)


def test_build_from_git_deploy_commit_again_roll_back_and_exec(
    panel: RunningPanel,
    admin_page: Any,
    chromium: Any,
    lab: Lab,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    page, host = admin_page, lab.hosts[2]
    domain = f"site.{host.name}.test"
    repo = tmp_path / "site"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    commit(repo, "first")
    add_server(page, panel.url, host, "web-lab3")

    page.goto(f"{panel.url}/apps/new")
    page.get_by_label("Name", exact=True).fill("site")
    page.get_by_label("Image").fill("panel-lab/site")
    page.get_by_label("Domains").fill(domain)
    page.get_by_label("web-lab3", exact=True).first.check()
    page.get_by_text("Build from git instead").click()
    page.get_by_label("Git repository").fill(str(repo))
    page.get_by_label("Deploy timeout").fill("20")
    page.get_by_label("Drain timeout").fill("1")
    page.get_by_role("button", name="Create app").click()
    expect(page.locator(".messages")).to_contain_text("is created")

    page.get_by_role("link", name="Plan").click()
    expect(page.locator("main")).to_contain_text("web-lab3")
    expect(page.locator("main")).to_contain_text("resolves main to <commit>")
    page.screenshot(path=str(artifacts / "git-plan.png"), full_page=True)
    page.get_by_role("link", name="Overview").click()
    page.locator("#deploy-button").click()
    expect(page.locator("#job-log")).to_contain_text(
        "docker build --tag panel-lab/site:", timeout=30_000
    )
    page.screenshot(path=str(artifacts / "git-build-live-log.png"), full_page=True)
    wait_for_job(page, "is live.")
    assert visit(chromium, domain) == "first"

    open_app(page, "site")
    page.get_by_role("link", name="Environment").click()
    page.get_by_label("Name").fill("SITE_TOKEN")
    page.get_by_label("Value").fill("browser-5ecr3t")
    page.get_by_label("For").select_option("build")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#env-table")).to_contain_text("SITE_TOKEN")
    page.screenshot(path=str(artifacts / "git-build-secret.png"), full_page=True)
    commit(
        repo, "second", "RUN --mount=type=secret,id=SITE_TOKEN test -s /run/secrets/SITE_TOKEN\n"
    )
    page.get_by_role("link", name="Overview").click()
    page.locator("#deploy-button").click()
    expect(page.locator("#job-log")).to_contain_text("--secret id=SITE_TOKEN", timeout=30_000)
    wait_for_job(page, "is live.")
    assert "browser-5ecr3t" not in page.content()
    assert visit(chromium, domain) == "second"

    open_app(page, "site")
    expect(page.locator("#releases")).to_contain_text("Say second")
    page.locator("#releases tr", has_text="Say first").get_by_role(
        "button", name="Roll back"
    ).click()
    wait_for_job(page, "is live.")
    rolled_back = page.locator("#job-log").inner_text()
    assert (
        "== Source" not in rolled_back and "docker build" not in rolled_back
    )  # no fetch, no build
    assert visit(chromium, domain) == "first"

    open_app(page, "site")
    page.get_by_role("link", name="Run a command").click()
    page.get_by_label("Command").fill("cat /www/index.html")
    page.get_by_role("button", name="Run").click()
    wait_for_job(page, "] first")
    page.screenshot(path=str(artifacts / "git-app-exec.png"), full_page=True)
