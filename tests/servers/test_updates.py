"""Reading a check for updates, and the commands of an upgrade and a reboot: pure."""

from __future__ import annotations

import shlex

import pytest

from panel.units import duration
from servers.commands import apt
from servers.os_plans import plan_upgrade
from servers.plans import Host
from servers.updates import changes, from_json, parse, parse_boot

DEBIAN = """os_id=debian
os_like=
os=Debian GNU/Linux 12 (bookworm)
privilege=sudo
refreshed=yes
--- simulated upgrade
NOTE: This is only a simulation!
Reading package lists...
Inst libc6 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian:12.5/stable, SECURITY [amd64])
Inst base-files [12.4+deb12u5] (12.4+deb12u6 Debian:12.6/stable [amd64])
Inst linux-image-6.1.0-22-amd64 (6.1.94-1 Debian:12.6/stable [amd64])
Inst docker.io [20.10.24+dfsg1-1+b3] (20.10.24+dfsg1-1+deb12u1 Debian:12.6/stable [amd64])
Inst evil$(reboot) [1] (2 Debian:12/stable [amd64])
Conf libc6 (2.36-9+deb12u4 Debian:12.5/stable [amd64])
--- end
reboot_required=yes
reboot_package=linux-image-6.1.0-22-amd64
reboot_package=linux-image-6.1.0-22-amd64
""".replace("SECURITY", "Debian-Security:12/stable-security")


def test_a_debian_check_reads_every_package_with_its_security_and_risk() -> None:
    found = parse(DEBIAN)
    assert found.supported and found.privilege == "sudo" and found.can_upgrade
    rows = [(p.name, p.current, p.candidate, p.security, p.risk) for p in found.packages]
    assert rows == [
        ("libc6", "2.36-9+deb12u3", "2.36-9+deb12u4", True, "the init system"),
        ("base-files", "12.4+deb12u5", "12.4+deb12u6", False, ""),
        ("linux-image-6.1.0-22-amd64", "", "6.1.94-1", False, "the kernel"),
        ("docker.io", "20.10.24+dfsg1-1+b3", "20.10.24+dfsg1-1+deb12u1", False, "docker"),
    ]  # the line with a name no package can have is left out
    assert [p.name for p in found.security] == ["libc6"]
    assert found.reboot_required and found.reboot_packages == ("linux-image-6.1.0-22-amd64",)
    assert from_json(found.as_json()) == found


def test_ubuntu_security_is_told_by_its_archive_and_other_systems_are_not_supported() -> None:
    ubuntu = parse("os_id=ubuntu\nprivilege=root\n--- simulated upgrade\n"
                   "Inst openssl [3.0.2-0ubuntu1.14] (3.0.2-0ubuntu1.15 Ubuntu:22.04/jammy-security"
                   " [amd64])\n--- end\n")  # fmt: skip
    assert ubuntu.security[0].name == "openssl"
    mint = parse("os_id=linuxmint\nos_like=ubuntu debian\nprivilege=none\n")
    assert mint.supported and not mint.can_upgrade
    alpine = parse("os_id=alpine\nprivilege=root\napt=missing\n--- simulated upgrade\n"
                   "Inst x [1] (2 X:1/y [all])\n--- end\n")  # fmt: skip
    assert not alpine.supported and not alpine.packages and not alpine.can_upgrade


def test_the_upgrade_runs_exactly_the_checked_versions_as_single_arguments() -> None:
    found = parse(DEBIAN)
    plan = plan_upgrade(Host(1, "web-1"), found, "security")
    assert plan.commands() == [
        "[web-1] sudo -n apt-get -q -o DPkg::Lock::Timeout=600 update",
        "[web-1] sudo -n sh -c " + shlex.quote(apt.UPGRADE_SCRIPT.strip())
        + " upgrade libc6=2.36-9+deb12u4",
        "[web-1] dpkg-query --show --showformat '${Package} ${Version}\\n' -- libc6",
    ]  # fmt: skip
    everything = plan_upgrade(Host(1, "web-1"), found, "all").commands()[1]
    assert "docker.io=20.10.24+dfsg1-1+deb12u1" in everything
    assert apt.upgrade("root", ["a=1"])[:2] == ["sh", "-c"]
    assert plan_upgrade(Host(1, "web-1"), parse("os_id=debian\n"), "all").phases == ()


def test_what_changed_and_the_boot_are_read_from_the_host() -> None:
    found = parse(DEBIAN)
    moved = changes(found, "libc6 2.36-9+deb12u4\nbase-files 12.4+deb12u5\n")
    assert moved == [("libc6", "2.36-9+deb12u3", "2.36-9+deb12u4")]
    boot = parse_boot("0f6c1b9e-1111-4c6e-9d51-2b7c9d1e2f3a\n12.50 20.00\n")
    assert (boot.id, boot.uptime) == ("0f6c1b9e-1111-4c6e-9d51-2b7c9d1e2f3a", 12.5)
    assert parse_boot("").id == ""


@pytest.mark.parametrize("name", ["$(reboot)", "-y", "a;b", "Upper", "x" * 200])
def test_a_package_name_outside_debian_s_rules_is_never_read(name: str) -> None:
    found = parse(f"os_id=debian\n--- simulated upgrade\nInst {name} [1] (2 D:1/s [all])\n")
    assert found.packages == ()


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (4.7, "4 s"),
        (420, "7 min"),
        (3 * 3600 + 12 * 60, "3 h 12 min"),
        (5 * 86400 + 4 * 3600, "5 d 4 h"),
    ],
)
def test_an_uptime_is_said_in_the_largest_units_that_fit(seconds: float, said: str) -> None:
    assert duration(seconds) == said
