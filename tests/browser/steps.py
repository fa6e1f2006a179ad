"""Steps a person takes in the panel, shared by the browser journeys."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from django_otp.oath import TOTP

from tests.lab.hosts import docker_env
from tests.lab.images import service_image
from tests.lab.lab import Lab, LabHost
from tests.lab.proc import sh


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    """The sign-in page, filled and sent (a second factor, where on, is asked next)."""
    page.goto(f"{base_url}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def wait_for_job(page: Any, text: str, timeout_ms: int = 120_000) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#job-log")).to_contain_text(text, timeout=timeout_ms)
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=60_000)


def import_lab_key(page: Any, url: str, host: LabHost) -> None:
    """Import the lab's key as "lab" (once); "Add a server" leads here while there is none."""
    from playwright.sync_api import expect

    page.goto(f"{url}/keys/")
    if page.get_by_role("link", name="lab", exact=True).count():
        return
    page.goto(f"{url}/servers/new")
    expect(page).to_have_url(f"{url}/keys/new")
    page.get_by_label("Name").fill("lab")
    page.get_by_label("Private key to import").fill(host.client_key.read_text())
    page.get_by_role("button", name="Save key").click()


def add_server(page: Any, url: str, host: LabHost, name: str) -> None:
    """Add, trust and bootstrap a lab host, as the servers journey does by hand."""
    import_lab_key(page, url, host)
    page.goto(f"{url}/servers/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Host", exact=True).fill(host.address)
    page.get_by_label("User", exact=True).fill(host.user)
    page.get_by_label("SSH key").select_option(label="lab")
    page.get_by_label("Proxy image").fill(service_image("caddy"))
    page.get_by_role("button", name="Add server").click()
    page.get_by_role("button", name="Confirm and trust").click()
    page.locator("#bootstrap-button").click()
    wait_for_job(page, "admin API answers")


def open_app(page: Any, name: str) -> None:
    """From any page: the app list, then the app's page."""
    page.get_by_role("link", name="Apps", exact=True).click()
    page.get_by_role("link", name=name, exact=True).click()


def fill_new_app(page: Any, lab: Lab, name: str, domain: str, server: str) -> None:
    """From any page: Apps → Create an app, filled for the lab registry's app image on
    `server` with short timeouts (not submitted)."""
    page.get_by_role("link", name="Apps", exact=True).click()
    page.locator("#add-app").click()
    fill_app(page, name, lab.app_images["v1"].rsplit(":", 1)[0], domain, server)
    page.get_by_label("Registry username").fill(lab.registry_user)
    page.get_by_label("Registry password").fill(lab.registry_password)


def fill_app(page: Any, name: str, image: str, domain: str, server: str) -> None:
    """The app form's name, image, domain and server, with short timeouts (not submitted)."""
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Image").fill(image)
    page.get_by_label("Domains").fill(domain)
    page.get_by_label(server, exact=True).first.check()
    page.get_by_label("Deploy timeout").fill("20")
    page.get_by_label("Drain timeout").fill("1")


def turn_on_two_factor_and_sign_in_with_a_code(
    page: Any, base_url: str, artifacts: Path, username: str, password: str
) -> None:
    """The person turns on two-factor sign-in with the key the page shows (as an app would
    read it from the QR code), signs out, and signs in with password and code."""
    from playwright.sync_api import expect

    page.get_by_role("link", name="Two-factor").click()
    expect(page.locator("#two-factor-qr svg")).to_be_visible()
    page.screenshot(path=str(artifacts / "two-factor-setup.png"), full_page=True)
    shown = page.locator("#two-factor-key").inner_text().replace(" ", "")
    key = base64.b32decode(shown + "=" * (-len(shown) % 8))
    page.get_by_label("Code").fill(app_code(key))
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.screenshot(path=str(artifacts / "two-factor-recovery-codes.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base_url, username, password)
    expect(page.locator("#code-form")).to_be_visible()
    page.screenshot(path=str(artifacts / "two-factor-sign-in.png"), full_page=True)
    page.get_by_label("Code").fill(app_code(key, later=30))  # the code now was used already
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account .username")).to_have_text(username)


def app_code(key: bytes, later: float = 0) -> str:
    """What an authenticator app shows, now or `later` seconds from now."""
    totp = TOTP(key)
    totp.time = time.time() + later
    return f"{totp.token():06d}"


def remove_leftovers(host: LabHost, app: str, accessory: str = "") -> None:
    """What an earlier run that failed half-way left on the host: the app's containers, the
    accessory's containers and data volumes."""
    env = docker_env(host.spec)
    listed = sh("docker", "ps", "-aq", "--filter", f"label=panel.app={app}", env=env).stdout
    containers = listed.decode().split()
    if accessory:
        containers += [f"panel-accessory-{accessory}", f"panel-accessory-{accessory}-scratch"]
        sh("docker", "rm", "-f", *containers, env=env, check=False)
        sh("docker", "volume", "rm", "-f", f"panel-accessory-{accessory}-data",
           f"panel-accessory-{accessory}-scratch-data", env=env, check=False)  # fmt: skip
    elif containers:
        sh("docker", "rm", "-f", *containers, env=env, check=False)
