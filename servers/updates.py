"""What a check for updates found on a Debian or Ubuntu host, read from its answer
(`servers.commands.apt.check`). Pure: text in, values out."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from servers.commands.apt import CHECK_MARK, END_MARK

SUPPORTED = ("debian", "ubuntu")
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]{0,127}(:[a-z0-9-]{1,32})?$")
VERSION_RE = re.compile(r"^[A-Za-z0-9.+~:-]{1,128}$")
# `Inst name [current] (candidate Label:Version/archive[, …] [arch])`; a new package has no
# current version.
INST_RE = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) (.*) \[([^\]]+)\]\)")
# Packages whose upgrade can stop or restart what runs on the server.
RISKY = {
    "docker": re.compile(r"^(docker(\.io|-ce|-ce-cli|-engine)?|moby-.*)$"),
    "containerd": re.compile(r"^(containerd(\.io)?|runc)$"),
    "the kernel": re.compile(r"^linux-(image|modules|headers)-.*$"),
    "the SSH server": re.compile(r"^openssh-server$"),
    "the init system": re.compile(r"^(systemd|systemd-sysv|libc6)$"),
}


@dataclass(frozen=True)
class Package:
    name: str
    current: str  # "" for a package the upgrade brings in new
    candidate: str
    origins: tuple[str, ...]
    security: bool
    risk: str = ""  # what its upgrade can restart, or ""

    @property
    def spec(self) -> str:
        return f"{self.name}={self.candidate}"


@dataclass(frozen=True)
class Updates:
    os: str
    os_id: str
    supported: bool
    privilege: str  # root, sudo, none
    refreshed: str  # yes, no (no right to), failed
    packages: tuple[Package, ...] = ()
    reboot_required: bool = False
    reboot_packages: tuple[str, ...] = ()

    @property
    def security(self) -> list[Package]:
        return [p for p in self.packages if p.security]

    @property
    def can_upgrade(self) -> bool:
        return self.supported and self.privilege in ("root", "sudo")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def parse(output: str) -> Updates:
    facts: dict[str, str] = {}
    reboot_packages: list[str] = []
    simulated: list[str] = []
    inside = False
    for line in output.splitlines():
        if line == CHECK_MARK:
            inside = True
        elif line == END_MARK:
            inside = False
        elif inside:
            simulated.append(line)
        else:
            key, sep, value = line.partition("=")
            if key == "reboot_package" and PACKAGE_RE.fullmatch(value.strip()):
                reboot_packages.append(value.strip())
            elif sep and key.isidentifier():
                facts[key] = value.strip()
    os_id, like = facts.get("os_id", "unknown"), facts.get("os_like", "").split()
    supported = facts.get("apt") != "missing" and bool({os_id, *like} & set(SUPPORTED))
    packages = tuple(p for p in (_package(line) for line in simulated) if p is not None)
    return Updates(
        os=facts.get("os", "unknown"),
        os_id=os_id,
        supported=supported,
        privilege=facts.get("privilege", "none"),
        refreshed=facts.get("refreshed", "no"),
        packages=packages if supported else (),
        reboot_required=facts.get("reboot_required") == "yes",
        reboot_packages=tuple(dict.fromkeys(reboot_packages)),
    )


def from_json(data: dict[str, Any]) -> Updates:
    packages = tuple(
        Package(**{**p, "origins": tuple(p.get("origins", ()))}) for p in data.get("packages", [])
    )
    reboot_packages = tuple(data.get("reboot_packages", ()))
    return Updates(**{**data, "packages": packages, "reboot_packages": reboot_packages})


def _package(line: str) -> Package | None:
    found = INST_RE.match(line)
    if found is None:
        return None
    name, current, candidate, releases = found.group(1, 2, 3, 4)
    if not (PACKAGE_RE.fullmatch(name) and VERSION_RE.fullmatch(candidate)):
        return None
    origins = tuple(r.strip() for r in releases.split(",") if r.strip())
    return Package(name, current or "", candidate, origins, any(map(_is_security, origins)),
                   risk_of(name))  # fmt: skip


def _is_security(origin: str) -> bool:
    """`Debian-Security:12/stable-security`, `Ubuntu:22.04/jammy-security`."""
    label, _, archive = origin.partition(":")
    return "security" in label.lower() or archive.split("/")[-1].endswith("-security")


def risk_of(name: str) -> str:
    return next((what for what, pattern in RISKY.items() if pattern.fullmatch(name)), "")


def changes(before: Updates, installed_output: str) -> list[tuple[str, str, str]]:
    """(name, from, to) for each package of the check whose installed version moved."""
    now = dict(line.split(" ", 1) for line in installed_output.splitlines() if " " in line)
    moved = []
    for package in before.packages:
        version = now.get(package.name.split(":")[0], package.current)
        if version != package.current:
            moved.append((package.name, package.current or "(new)", version))
    return moved


@dataclass(frozen=True)
class Boot:
    id: str
    uptime: float  # seconds


def parse_boot(output: str) -> Boot:
    """`cat boot_id /proc/uptime`: the boot id, then the seconds since boot."""
    lines = output.split()
    try:
        return Boot(lines[0], float(lines[1]))
    except (IndexError, ValueError):
        return Boot("", 0.0)
