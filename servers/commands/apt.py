"""Commands for a Debian or Ubuntu host's packages. Pure: they return argv lists. The scripts
are fixed text; package names and versions reach them as separate arguments (`"$@"`), after
`servers.updates.validate_package` accepted them."""

from __future__ import annotations

LOCK_WAIT = 600  # seconds apt waits for another apt or dpkg to finish
CHECK_MARK = "--- simulated upgrade"
END_MARK = "--- end"

# Who may change packages (root, or sudo without a password), the lists refreshed where
# allowed, then apt's simulation, which changes nothing and needs no root.
CHECK_SCRIPT = f"""
. /etc/os-release 2>/dev/null
echo "os_id=${{ID:-unknown}}"
echo "os_like=${{ID_LIKE:-}}"
echo "os=${{PRETTY_NAME:-unknown}}"
if [ "$(id -u)" = 0 ]; then as=root; elif sudo -n true 2>/dev/null; then as=sudo; else as=none; fi
echo "privilege=$as"
command -v apt-get >/dev/null 2>&1 || {{ echo apt=missing; exit 0; }}
case $as in root) run= ;; sudo) run="sudo -n" ;; *) run=none ;; esac
if [ "$run" != none ]; then
    if $run apt-get -q -o DPkg::Lock::Timeout={LOCK_WAIT} update >&2; then echo refreshed=yes
    else echo refreshed=failed; fi
else echo refreshed=no; fi
echo "{CHECK_MARK}"
LC_ALL=C apt-get -s -o Debug::NoLocking=1 upgrade --with-new-pkgs
echo "{END_MARK}"
[ -e /var/run/reboot-required ] && echo reboot_required=yes
[ -e /var/run/reboot-required.pkgs ] && sed 's/^/reboot_package=/' /var/run/reboot-required.pkgs
exit 0
"""

# Exactly the versions previewed, each upgraded only if installed; local configuration files
# kept; whether apt installed a package by itself (auto) is kept too, since `install` would
# mark what it names as chosen by hand.
UPGRADE_SCRIPT = f"""
set -e
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
names=
for spec do names="$names ${{spec%%=*}}"; done
auto=$(apt-mark showauto $names)
apt-get -y -q -o DPkg::Lock::Timeout={LOCK_WAIT} -o Dpkg::Options::=--force-confdef \\
    -o Dpkg::Options::=--force-confold install --only-upgrade "$@"
if [ -n "$auto" ]; then apt-mark auto $auto >/dev/null; fi
"""

# A reboot a moment after the command returned, so its answer still reaches the panel.
REBOOT_SCRIPT = "nohup sh -c 'sleep 2; exec reboot' >/dev/null 2>&1 &"


def check() -> list[str]:
    return ["sh", "-c", CHECK_SCRIPT.strip()]


def as_root(privilege: str, argv: list[str]) -> list[str]:
    """A command as root: as is for root, through `sudo -n` (never asking) for a sudoer."""
    return argv if privilege == "root" else ["sudo", "-n", *argv]


def upgrade(privilege: str, specs: list[str]) -> list[str]:
    """Upgrade to exactly these `name=version` specs."""
    return as_root(privilege, ["sh", "-c", UPGRADE_SCRIPT.strip(), "upgrade", *specs])


def refresh(privilege: str) -> list[str]:
    return as_root(privilege, ["apt-get", "-q", "-o", f"DPkg::Lock::Timeout={LOCK_WAIT}",
                               "update"])  # fmt: skip


def installed(names: list[str]) -> list[str]:
    """`name version` of each installed package named (others are left out)."""
    return ["dpkg-query", "--show", "--showformat", "${Package} ${Version}\\n", "--", *names]


def boot() -> list[str]:
    """The boot id and the seconds since boot: a new id means the host rebooted."""
    return ["cat", "/proc/sys/kernel/random/boot_id", "/proc/uptime"]


def reboot(privilege: str) -> list[str]:
    return as_root(privilege, ["sh", "-c", REBOOT_SCRIPT])
