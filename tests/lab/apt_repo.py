"""A small apt repository the lab builds with `dpkg-deb`: the demo package at 1.0 in the
release suite and at 1.1 in a security suite, whose postinst says a reboot is required. The
Debian lab host installs 1.0 and sees only this repository, so a check for updates finds
exactly one package however the mirror has moved."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from tests.lab.config import STATE_DIR
from tests.lab.proc import sh

REPO = STATE_DIR / "apt-repo"
PACKAGE = "panel-demo"
OLD, NEW = "1.0", "1.1"
SUITE, SECURITY_SUITE = "bookworm", "bookworm-security"
LABELS = {SUITE: "PanelLab", SECURITY_SUITE: "PanelLab-Security"}
POSTINST_NEW = """#!/bin/sh
set -e
if [ "$1" = configure ]; then
    touch /var/run/reboot-required
    echo panel-demo >> /var/run/reboot-required.pkgs
fi
"""


def deb_name(version: str) -> str:
    return f"{PACKAGE}_{version}_all.deb"


def build() -> Path:
    """The repository (made again when this file changed since)."""
    stamp = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    if (REPO / ".stamp").exists() and (REPO / ".stamp").read_text() == stamp:
        return REPO
    shutil.rmtree(REPO, ignore_errors=True)
    pool = REPO / "pool"
    pool.mkdir(parents=True)
    for suite, version in ((SUITE, OLD), (SECURITY_SUITE, NEW)):
        deb = pool / deb_name(version)
        _build_deb(deb, version, POSTINST_NEW if version == NEW else "")
        _index(suite, deb)
    (REPO / ".stamp").write_text(stamp)
    return REPO


def _build_deb(deb: Path, version: str, postinst: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "DEBIAN").mkdir()
        (root / "DEBIAN" / "control").write_text(
            f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: all\n"
            "Maintainer: Panel Lab <lab@example.invalid>\nSection: misc\nPriority: optional\n"
            f"Description: demo package of the lab at {version}\n"
        )
        if postinst:
            script = root / "DEBIAN" / "postinst"
            script.write_text(postinst)
            script.chmod(0o755)
        share = root / "usr" / "share" / PACKAGE
        share.mkdir(parents=True)
        (share / "VERSION").write_text(f"{version}\n")
        sh("dpkg-deb", "--root-owner-group", "--build", str(root), str(deb))


def _index(suite: str, deb: Path) -> None:
    control = sh("dpkg-deb", "--field", str(deb)).stdout.decode().strip()
    data = deb.read_bytes()
    entry = (
        f"{control}\nFilename: pool/{deb.name}\nSize: {len(data)}\n"
        f"SHA256: {hashlib.sha256(data).hexdigest()}\n\n"
    )
    binary = REPO / "dists" / suite / "main" / "binary-all"
    binary.mkdir(parents=True)
    (binary / "Packages").write_text(entry)
    packages = entry.encode()
    (REPO / "dists" / suite / "Release").write_text(
        f"Origin: {LABELS[suite]}\nLabel: {LABELS[suite]}\nSuite: {suite}\nCodename: {suite}\n"
        "Date: Sat, 01 Jun 2024 00:00:00 UTC\nVersion: 12\n"
        "Architectures: all amd64\nComponents: main\n"
        f"SHA256:\n {hashlib.sha256(packages).hexdigest()} {len(packages)} "
        "main/binary-all/Packages\n"
    )
