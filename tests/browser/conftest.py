from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.browser.steps import sign_in
from tests.conftest import IN_CI
from tests.lab import services as lab_services
from tests.lab.images import caddy_binary
from tests.lab.proc import answers, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class RunningPanel:
    url: str
    admin_user: str
    admin_password: str
    data_dir: Path


@pytest.fixture(scope="session")
def panel(lab) -> Iterator[RunningPanel]:  # type: ignore[no-untyped-def]
    """The panel as `make run` starts it (web, worker, beat), on a fresh data directory,
    with the lab's Redis as broker and log channel; shared by the journeys."""
    with running_panel(lab, redis_db=1) as started:
        yield started


@contextmanager
def running_panel(
    lab: Any, redis_db: int, base_url: str = "", **settings: str
) -> Iterator[RunningPanel]:
    """A panel of its own: a new data directory, migrated, its first admin created the way
    `make run` does, and `manage.py serve` running until the block ends. `base_url`: where
    people reach it (a proxy in front); `settings`: more of its environment."""
    data_dir = Path(tempfile.mkdtemp(prefix="panel-e2e-"))
    port = free_port()
    redis_url = lab.redis_url.rsplit("/", 1)[0] + f"/{redis_db}"
    redis.Redis.from_url(redis_url).flushdb()  # a new panel: no message left from another
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PANEL_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "PANEL_DATA_DIR": str(data_dir),
        "REDIS_URL": redis_url,
        "PANEL_BASE_URL": base_url or f"http://127.0.0.1:{port}",
        "PANEL_GIT_ALLOW_LOCAL": "true",  # the journeys build from repositories on this disk
        "PANEL_TLS_ISSUER": "internal",
        "PANEL_INSECURE_REGISTRIES": lab.registry,  # the panel asks it whether tags exist
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",  # the lab's SMTP sink
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(lab_services.SMTP_PORT),
        **settings,
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    created = subprocess.run(
        [*manage, "ensure_admin"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    password = re.search(r"password: (\S+)", created)
    assert password, created
    log = (data_dir / "serve.log").open("wb")
    server = subprocess.Popen(
        [*manage, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not answers(f"{url}/up"):
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError((data_dir / "serve.log").read_text()[-3000:])
        time.sleep(0.3)
    try:
        yield RunningPanel(url, "admin", password.group(1), data_dir)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)


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
        try:
            caddy.wait(timeout=10)
        except subprocess.TimeoutExpired:  # connections still open (a live page's stream)
            caddy.kill()
            caddy.wait(timeout=10)


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def lab_host_rules(lab: Any) -> str:
    """Chromium's resolver rules by which visitors of `<anything>.<host name>.test` reach that
    lab host, as DNS would send them."""
    return ", ".join(f"MAP *.{host.name}.test {host.address}" for host in lab.hosts)


# Module scope: the sync API keeps an event loop running in this thread while it lives.
@pytest.fixture(scope="module")
def chromium(lab: Any) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        if IN_CI:
            pytest.fail("Chromium is not installed; make test installs Debian's chromium.")
        pytest.skip("Chromium is not installed.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[*CHROMIUM_FLAGS, f"--host-resolver-rules={lab_host_rules(lab)}"],
        )
        yield browser
        browser.close()


@pytest.fixture
def admin_page(panel: RunningPanel, chromium: Any) -> Iterator[Any]:
    """A signed-in admin's page; dialogs (confirmations) are accepted."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, panel.url, panel.admin_user, panel.admin_password)
    page.wait_for_url(f"{panel.url}/")
    yield page
    page.close()
