"""Plans for a host's packages: the upgrade of exactly the versions a check listed (all of
them, or the security updates alone), then what is installed afterwards, for the report.
Pure: the check and the choice in, the plan out."""

from __future__ import annotations

from servers.commands import apt, security
from servers.plans import Host, Phase, Plan, Reboot, Run, lane
from servers.updates import Package, Updates

SCOPES = {"security": "Security updates only", "all": "All updates"}
REFRESH, UPGRADE, REPORT, REBOOT = "Refresh apt's lists", "Upgrade", "What changed", "Reboot"
HARDEN = "SSH: keys only"
SSHD = "sshd"  # the name sshd's effective settings are kept under
INSTALLED = "installed"  # the name the report's output is kept under
UPGRADE_TIMEOUT = 3600.0
REBOOT_TIMEOUT = 300.0


def chosen(found: Updates, scope: str) -> list[Package]:
    return found.security if scope == "security" else list(found.packages)


def plan_upgrade(host: Host, found: Updates, scope: str) -> Plan:
    packages = chosen(found, scope)
    if not packages:
        return Plan()
    names = sorted({p.name for p in packages})
    return Plan((
        Phase(REFRESH, (lane(Run(host, tuple(apt.refresh(found.privilege)), title=REFRESH,
                                 stream=True, timeout=apt.LOCK_WAIT + 300)),)),
        Phase(UPGRADE, (lane(Run(host, tuple(apt.upgrade(found.privilege,
                                                         [p.spec for p in packages])),
                                 title=UPGRADE, stream=True,
                                 timeout=apt.LOCK_WAIT + UPGRADE_TIMEOUT)),)),
        Phase(REPORT, (lane(Run(host, tuple(apt.installed(names)), title=REPORT,
                                record=INSTALLED, check=False)),)),
    ))  # fmt: skip


def reboot_phase(host: Host, privilege: str, timeout: float = REBOOT_TIMEOUT) -> Phase:
    return Phase(REBOOT, (lane(Reboot(host, tuple(apt.reboot(privilege)), timeout)),))


def plan_ssh_hardening(host: Host, privilege: str) -> Plan:
    """Passwords off for SSH (root with a key only), in a file of its own that sshd checks
    before it reloads; then sshd's effective settings, read back."""
    return Plan((
        Phase(HARDEN, (lane(
            Run(host, tuple(security.harden_ssh(privilege)), title=HARDEN),
            Run(host, tuple(security.sshd_settings(privilege)), title="sshd's settings",
                record=SSHD),
        ),)),
    ))  # fmt: skip
