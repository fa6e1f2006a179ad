"""The panel behind a TLS proxy at its base URL, as it runs in production: a real Caddy in
front, Chromium at `https://panel.test:<port>`. Signing in, turning two-factor sign-in on,
signing in with a code, and posting forms all pass the CSRF origin check (trusted origins
and allowed hosts come from PANEL_BASE_URL alone)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_FLAGS, running_panel
from tests.browser.steps import sign_in, turn_on_two_factor_and_sign_in_with_a_code
from tests.conftest import ARTIFACTS
from tests.lab.images import caddy_binary
from tests.lab.lab import Lab
from tests.lab.proc import free_port

pytestmark = pytest.mark.browser


@contextmanager
def caddy_in_front(port: int, upstream: str) -> Iterator[str]:
    """Caddy on `port`, with a certificate of its own internal CA, proxying to `upstream`;
    it installs nothing into this machine's trust store."""
    home = Path(tempfile.mkdtemp(prefix="panel-proxy-"))
    config = home / "Caddyfile"
    config.write_text(
        "{\n  skip_install_trust\n  admin off\n  auto_https disable_redirects\n}\n"
        f"https://panel.test:{port} {{\n  tls internal\n  reverse_proxy {upstream}\n}}\n"
    )
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    caddy = subprocess.Popen(
        [str(caddy_binary()), "run", "--config", str(config), "--adapter", "caddyfile"],
        env=env, stdout=subprocess.DEVNULL, stderr=(home / "caddy.log").open("wb"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _listens(port):
            assert time.monotonic() < deadline and caddy.poll() is None, "Caddy did not start"
            time.sleep(0.2)
        yield f"https://panel.test:{port}"
    finally:
        caddy.terminate()
        caddy.wait(timeout=10)


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_sign_in_two_factor_and_forms_work_through_the_proxy(
    lab: Lab, chromium: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    port = free_port()
    base = f"https://panel.test:{port}"
    with (
        running_panel(lab, redis_db=4, base_url=base, PANEL_TRUSTED_PROXY_COUNT="1") as panel,
        caddy_in_front(port, panel.url.removeprefix("http://")),
    ):
        browser = chromium.browser_type.launch(
            executable_path=shutil.which("chromium"),
            args=[*CHROMIUM_FLAGS, "--host-resolver-rules=MAP panel.test 127.0.0.1"],
        )
        page = browser.new_page(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        sign_in(page, base, panel.admin_user, panel.admin_password)
        page.wait_for_url(f"{base}/")

        turn_on_two_factor_and_sign_in_with_a_code(
            page, base, tmp_path, panel.admin_user, panel.admin_password
        )
        page.goto(f"{base}/account/tokens")
        page.get_by_label("Name").fill("through-the-proxy")
        page.get_by_role("button", name="Create token").click()
        expect(page.locator("#token-secret")).to_be_visible()
        page.goto(f"{base}/audit/")
        expect(page.locator("main")).to_contain_text("through-the-proxy")
        page.screenshot(path=str(ARTIFACTS / "behind-proxy-audit.png"), full_page=True)
        browser.close()
