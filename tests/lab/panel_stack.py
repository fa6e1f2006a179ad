"""The panel's production install on the lab: its image built the way production builds it,
from the lab's Debian with its Python standing in for the official Python image and wheels
fetched on this machine (containers here reach no PyPI); then compose.yaml brought up with
Debian's docker-compose, the lab's PostgreSQL and Redis images standing in for the official."""

from __future__ import annotations

import re
import secrets
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from panel.keyfiles import new_encryption_key_line
from tests.lab import images
from tests.lab.proc import LabError, free_port, sh, wait_for

ROOT = Path(__file__).resolve().parents[2]
PYTHON_IMAGE = "panel-lab/python:3.11"
PANEL_IMAGE = "panel-lab/panel:latest"
OVERRIDE = """\
x-lab: &lab
  environment:
    PANEL_TLS_ISSUER: internal
    PANEL_INSECURE_REGISTRIES: "{registry}"
services:
  web: *lab
  worker: *lab
  beat: *lab
  db: {{image: "{postgres}"}}
  redis: {{image: "{redis}"}}
"""


def build_panel_image(tag: str = PANEL_IMAGE) -> str:
    images.build(PYTHON_IMAGE, images.HERE / "python")
    sh("make", "-s", "-C", str(ROOT), "wheels", timeout=900)
    sh("docker", "build", "-q", "--build-arg", f"BASE={PYTHON_IMAGE}", "--build-arg",
       "OFFLINE=1", "-t", tag, str(ROOT), env=images.BUILD_ENV, timeout=1800)  # fmt: skip
    return tag


def with_migration(base: str, tag: str, app: str, name: str, source: str) -> str:
    """`base` and one migration more: the panel's next version, as an upgrade brings it."""
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / f"{name}.py").write_text(source)
        (Path(context) / "Dockerfile").write_text(
            f"FROM {base}\nCOPY {name}.py /app/{app}/migrations/{name}.py\n"
        )
        sh("docker", "build", "-q", "-t", tag, context, env=images.BUILD_ENV, timeout=600)
    return tag


def image_bytes(tag: str) -> int:
    return int(sh("docker", "image", "inspect", "-f", "{{.Size}}", tag).stdout)


@dataclass
class Stack:
    """One compose project of the panel; `compose()` runs docker-compose on it."""

    project: str
    folder: Path
    port: int
    variables: dict[str, str]

    @classmethod
    def create(cls, project: str, image: str, registry: str, base_url: str) -> Stack:
        """`base_url`: where people reach it, through a TLS proxy in front."""
        folder = Path(tempfile.mkdtemp(prefix=f"{project}-"))
        (folder / "lab.yaml").write_text(
            OVERRIDE.format(
                registry=registry,
                postgres=images.service_image("postgres"),
                redis=images.service_image("redis"),
            )
        )
        port = free_port()
        variables = {
            "PANEL_IMAGE": image,
            "PANEL_PORT": str(port),
            "PANEL_BASE_URL": base_url,
            "PANEL_TRUSTED_PROXY_COUNT": "1",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PANEL_ENCRYPTION_KEYS": new_encryption_key_line(),
            "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        }
        return cls(project, folder, port, variables)

    @property
    def url(self) -> str:
        """The web server itself, on this machine's loopback."""
        return f"http://127.0.0.1:{self.port}"

    def compose(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[bytes]:
        return sh("docker-compose", "--project-name", self.project, "--project-directory",
                  str(ROOT), "-f", str(ROOT / "compose.yaml"), "-f", str(self.folder / "lab.yaml"),
                  *args, env=self.variables, timeout=timeout)  # fmt: skip

    def up(self) -> None:
        self.compose("up", "-d", "--no-build")

    def ensure_admin(self) -> str:
        """The first admin, made the way the README says; its password."""
        printed = self.compose("run", "--rm", "-T", "web", "python", "manage.py", "ensure_admin")
        found = re.search(r"password: (\S+)", printed.stdout.decode())
        if found is None:
            raise LabError(f"ensure_admin printed no password: {printed.stdout.decode()}")
        return found.group(1)

    def manage(self, *args: str) -> str:
        return self.compose("exec", "-T", "web", "python", "manage.py", *args).stdout.decode()

    def wait_until_up(self, timeout: float = 180) -> None:
        try:
            wait_for(self.healthy, "/up to answer 200", timeout, interval=0.5)
        except LabError as error:
            raise LabError(f"{error}:\n{self.logs()[-4000:]}") from error

    def healthy(self) -> bool:
        """Whether /up answers 200 (the database answering the web server)."""
        try:
            with urllib.request.urlopen(f"{self.url}/up", timeout=2):  # noqa: S310
                return True
        except OSError:  # refused, reset, or an HTTP error status
            return False

    def logs(self, service: str = "") -> str:
        return self.compose("logs", "--no-color", *([service] if service else [])).stdout.decode()

    def memory(self) -> dict[str, int]:
        """Bytes each service's container uses now (as `docker stats` counts them)."""
        ids = self.compose("ps", "-q").stdout.decode().split()
        stats = sh("docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *ids)
        used = {}
        for line in stats.stdout.decode().splitlines():
            name, usage = line.split(" ", 1)
            used[name.removeprefix(f"{self.project}_").rsplit("_", 1)[0]] = _bytes(usage)
        return used

    def remove(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", timeout=300)


def _bytes(amount: str) -> int:
    used = amount.split("/")[0].strip()
    number, unit = re.fullmatch(r"([\d.]+)\s*([KMGT]?i?B)", used).groups()  # type: ignore[union-attr]
    scale = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
    return int(float(number) * scale)
