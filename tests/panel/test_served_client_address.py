"""The client address as the real servers give it: `manage.py serve` (uvicorn) and the
gunicorn command of compose.yaml. A client behind a local hop must not choose its address."""

from __future__ import annotations

import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.lab.proc import answers, free_port

ROOT = Path(__file__).resolve().parents[2]
SPOOFED = "203.0.113.77"


@pytest.fixture(scope="module")
def served_env() -> Iterator[dict[str, str]]:
    data_dir = Path(tempfile.mkdtemp(prefix="panel-served-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PANEL_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "PANEL_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'panel.sqlite3'}",
        "REDIS_URL": "",
        "PANEL_TRUSTED_PROXY_COUNT": "0",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    yield env


def _image_gunicorn(port: int) -> list[str]:
    command = re.search(r"exec (gunicorn [^\"]+)\"", (ROOT / "Dockerfile").read_text())
    assert command, "the image's command execs gunicorn"
    argv = shlex.split(command.group(1).replace("0.0.0.0:8000", f"127.0.0.1:{port}"))
    return [sys.executable, "-m", *argv]


def _serve(port: int) -> list[str]:
    return [sys.executable, "manage.py", "serve", "--port", str(port)]


@pytest.mark.parametrize("server", [_serve, _image_gunicorn], ids=["serve", "gunicorn"])
def test_a_forwarded_for_header_does_not_choose_the_recorded_address(
    served_env: dict[str, str], server: object
) -> None:
    port = free_port()
    argv = server(port)  # type: ignore[operator]
    log = Path(served_env["PANEL_DATA_DIR"]) / f"{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=served_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not answers(f"{url}/up"):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        name = f"nobody-{port}"
        with httpx.Client(base_url=url) as client:
            page = client.get("/login")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert token
            answer = client.post(
                "/login",
                data={"csrfmiddlewaretoken": token.group(1), "username": name, "password": "x"},
                headers={"X-Forwarded-For": SPOOFED, "Referer": f"{url}/login"},
            )
            assert answer.status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    with sqlite3.connect(Path(served_env["PANEL_DATA_DIR"]) / "panel.sqlite3") as db:
        recorded = db.execute(
            "SELECT ip FROM panel_loginfailure WHERE username = ?", (name,)
        ).fetchall()
    assert recorded == [("127.0.0.1",)]
