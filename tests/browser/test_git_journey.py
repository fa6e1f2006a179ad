"""In Chromium: an app built from a git repository; deploy (the build streams live); a signed
push deploys by itself; commit again, deploy again, roll back, run a command in the live
release."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from deployments.webhook_signatures import hex_signature
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


def deploy_by_a_signed_push(page: Any, repo: Path, artifacts: Path) -> None:
    """Set up the app's GitHub webhook; a commit, then the push GitHub would send, signed
    with the secret the page showed once; the build and deploy start by themselves."""
    from playwright.sync_api import expect

    open_app(page, "site")
    page.get_by_role("link", name="Webhook").click()
    page.get_by_label("Provider").select_option("github")
    page.get_by_role("button", name="Create the webhook").click()
    secret = page.locator("#webhook-secret-value").input_value()
    url = page.locator("#webhook-url").input_value()
    page.screenshot(path=str(artifacts / "webhook-created.png"), full_page=True)
    commit(repo, "pushed")
    sha = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    body = json.dumps({"ref": "refs/heads/main", "after": sha, "pusher": {"name": "ann"}})
    signature = "sha256=" + hex_signature(secret, body.encode())
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "journey-1",
               "X-Hub-Signature-256": signature, "Content-Type": "application/json"}  # fmt: skip
    answer = httpx.post(url, content=body, headers=headers, timeout=5)
    assert answer.status_code == 202, answer.text

    for _ in range(40):  # the worker takes the received push
        page.reload()
        if "Deploy started" in page.locator("#delivery-table").inner_text():
            break
        time.sleep(0.5)
    expect(page.locator("#delivery-table")).to_contain_text("Deploy started")
    expect(page.locator("#delivery-table")).to_contain_text(sha[:12])
    expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once only
    page.locator("#delivery-table").get_by_role("link", name="#").first.click()
    expect(page.locator("#job-log")).to_contain_text("docker build", timeout=30_000)
    expect(page.locator("main")).to_contain_text("GitHub webhook, pushed by ann")
    wait_for_job(page, "is live.")
    page.screenshot(path=str(artifacts / "webhook-deploy.png"), full_page=True)
    open_app(page, "site")
    page.get_by_role("link", name="Webhook").click()
    page.screenshot(path=str(artifacts / "webhook-deliveries.png"), full_page=True)


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

    deploy_by_a_signed_push(page, repo, artifacts)
    assert visit(chromium, domain) == "pushed"

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
