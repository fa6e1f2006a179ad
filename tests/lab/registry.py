"""A real image registry (Debian's docker-registry) with htpasswd auth on the lab bridge."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request

from tests.lab.config import REGISTRY_ADDRESS, RUN_DIR, STATE_DIR
from tests.lab.proc import read_pid, sh, spawn, stop_pid, wait_for

ROOT = STATE_DIR / "registry"
PIDFILE = RUN_DIR / "registry.pid"
CREDENTIALS = ROOT / "credentials"
USERNAME = "lab"


def credentials() -> tuple[str, str]:
    """The lab registry's user and password, made once per machine (not a real secret)."""
    ROOT.mkdir(parents=True, exist_ok=True)
    if not CREDENTIALS.exists():
        CREDENTIALS.write_text(f"{USERNAME}:{secrets.token_urlsafe(16)}\n")
        CREDENTIALS.chmod(0o600)
    user, _, password = CREDENTIALS.read_text().strip().partition(":")
    return user, password


def start() -> None:
    if read_pid(PIDFILE) is not None:
        return
    user, password = credentials()
    htpasswd = ROOT / "htpasswd"
    htpasswd.write_bytes(sh("htpasswd", "-Bbn", user, password).stdout)
    config = ROOT / "config.yml"
    config.write_text(
        "\n".join(
            [
                "version: 0.1",
                "log: {level: warn}",
                "storage:",
                f"  filesystem: {{rootdirectory: {ROOT / 'data'}}}",
                "  delete: {enabled: true}",
                f"http: {{addr: '{REGISTRY_ADDRESS}'}}",
                "auth:",
                f"  htpasswd: {{realm: panel-lab, path: {htpasswd}}}",
                "",
            ]
        )
    )
    pid = spawn(["docker-registry", "serve", str(config)], STATE_DIR / "logs" / "registry.log")
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    PIDFILE.write_text(str(pid))
    wait_for(answers, "the lab registry", timeout=30)


def stop() -> None:
    pid = read_pid(PIDFILE)
    if pid is not None:
        stop_pid(pid)
    PIDFILE.unlink(missing_ok=True)


def answers() -> bool:
    try:
        urllib.request.urlopen(f"http://{REGISTRY_ADDRESS}/v2/", timeout=2)
    except urllib.error.HTTPError as error:
        return error.code == 401
    except OSError:
        return False
    return True


def image(name: str) -> str:
    return f"{REGISTRY_ADDRESS}/{name}"
