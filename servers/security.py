"""A server's security report, pure: the read-only script's answer (and the last check for
updates) in, findings out, each with why it matters and, where the panel has one, its fix."""

from __future__ import annotations

from dataclasses import dataclass, field

from servers.commands.security import END, LISTENING

PUBLIC = ("0.0.0.0", "*", "[::]", "::")  # noqa: S104 (addresses read, not bound)
EXPECTED_PORTS = {22, 80, 443}


@dataclass(frozen=True)
class Listening:
    proto: str
    address: str
    port: int

    @property
    def public(self) -> bool:
        return self.address in PUBLIC


@dataclass(frozen=True)
class Finding:
    key: str
    level: str  # ok, warn, bad, unknown
    title: str
    why: str
    fix: str = ""  # a fix the panel runs: "ssh-hardening", "upgrade", "reboot", "firewall"


@dataclass(frozen=True)
class Report:
    privilege: str
    os: str
    facts: dict[str, str] = field(default_factory=dict)
    listening: tuple[Listening, ...] = ()


def parse(output: str) -> Report:
    facts: dict[str, str] = {}
    listening: list[Listening] = []
    inside = False
    for line in output.splitlines():
        if line in (LISTENING, END):
            inside = line == LISTENING
            continue
        if inside:
            found = _listening(line)
            if found is not None:
                listening.append(found)
            continue
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            facts[key.lower()] = value.strip()
    unique = tuple(dict.fromkeys(sorted(listening, key=lambda x: (x.port, x.proto, x.address))))
    return Report(facts.get("privilege", "none"), facts.get("os", "unknown"), facts, unique)


def findings(report: Report, *, security_updates: int | None, ssh_port: int) -> list[Finding]:
    facts = report.facts
    return [
        _passwords(facts),
        _root(facts),
        _open_ports(report, ssh_port),
        _firewall(facts),
        _docker_tcp(report, facts),
        _updates(security_updates),
        _reboot(facts),
        _unattended(facts),
        _clock(facts),
    ]


def _passwords(facts: dict[str, str]) -> Finding:
    password = facts.get("sshd_passwordauthentication")
    keyboard = facts.get("sshd_kbdinteractiveauthentication")
    if password is None:
        return Finding(
            "ssh-passwords",
            "unknown",
            "SSH password login: not known",
            "Reading sshd's settings needs root or sudo without a password.",
        )
    if "yes" in (password, keyboard):
        return Finding(
            "ssh-passwords",
            "bad",
            "SSH accepts passwords",
            "Bots try passwords on every server all day; one weak or reused "
            "password is a way in. With keys only, guessing gets nowhere.",
            fix="ssh-hardening",
        )
    return Finding(
        "ssh-passwords",
        "ok",
        "SSH accepts keys only",
        "Passwords cannot be guessed where none are accepted.",
    )


def _root(facts: dict[str, str]) -> Finding:
    root = facts.get("sshd_permitrootlogin")
    if root is None:
        return Finding(
            "ssh-root",
            "unknown",
            "Root login over SSH: not known",
            "Reading sshd's settings needs root or sudo without a password.",
        )
    if root == "yes":
        return Finding(
            "ssh-root",
            "bad",
            "root may log in over SSH with a password",
            "root is the one user name every attacker knows.",
            fix="ssh-hardening",
        )
    word = "never" if root == "no" else "with a key only"
    return Finding(
        "ssh-root",
        "ok",
        f"root logs in over SSH {word}",
        "root's password is never enough to get in.",
    )


def _open_ports(report: Report, ssh_port: int) -> Finding:
    expected = EXPECTED_PORTS | {ssh_port}
    others = sorted(
        {f"{x.port}/{x.proto}" for x in report.listening if x.public and x.port not in expected}
    )
    if not report.listening:
        return Finding(
            "ports",
            "unknown",
            "Listening ports: not known",
            "The server did not say what listens (`ss` is missing).",
        )
    if others:
        return Finding(
            "ports",
            "warn",
            f"Listening on every address: {', '.join(others)}",
            "Anyone who reaches the server reaches these, unless a firewall drops "
            "them. Bind services to 127.0.0.1 or the private network instead.",
        )
    return Finding(
        "ports",
        "ok",
        "Only SSH and the web listen on every address",
        "Everything else listens on the loopback or a private address.",
    )


def _firewall(facts: dict[str, str]) -> Finding:
    ufw, policy = facts.get("ufw", ""), facts.get("input_policy", "")
    if "input_policy" not in facts:
        return Finding(
            "firewall",
            "unknown",
            "Firewall: not known",
            "Reading the firewall needs root or sudo without a password.",
        )
    docker_note = (
        " Docker's published ports bypass ufw and INPUT rules: they need rules "
        "in the DOCKER-USER chain."
        if facts.get("docker_user_rules") == "0"
        else ""
    )
    if ufw == "active" or policy in ("DROP", "REJECT"):
        return Finding(
            "firewall",
            "warn" if docker_note else "ok",
            f"A firewall filters incoming traffic ({'ufw' if ufw == 'active' else 'iptables'})",
            "Ports nobody opened on purpose stay closed." + docker_note,
            fix="firewall",
        )
    return Finding(
        "firewall",
        "warn",
        "No firewall filters incoming traffic",
        "Every port a service opens is reachable from anywhere." + docker_note,
        fix="firewall",
    )


def _docker_tcp(report: Report, facts: dict[str, str]) -> Finding:
    plain = any(x.port == 2375 for x in report.listening)
    if plain or facts.get("dockerd_listens_tcp") == "yes":
        return Finding(
            "docker-tcp",
            "bad",
            "Docker's API listens on TCP",
            "Whoever reaches Docker's API is root on the server. The panel needs "
            "only its socket, over SSH.",
        )
    return Finding(
        "docker-tcp",
        "ok",
        "Docker's API is not on the network",
        "It is reached through its socket on the server only.",
    )


def _updates(security_updates: int | None) -> Finding:
    if security_updates is None:
        return Finding(
            "updates",
            "unknown",
            "Security updates: not checked yet",
            "A check for updates lists them without installing anything.",
            fix="upgrade",
        )
    if security_updates:
        return Finding(
            "updates",
            "bad",
            f"{security_updates} security update(s) not installed",
            "Published fixes are also published weaknesses.",
            fix="upgrade",
        )
    return Finding(
        "updates",
        "ok",
        "No security update pending (at the last check)",
        "Known weaknesses with a fix are fixed.",
    )


def _reboot(facts: dict[str, str]) -> Finding:
    if facts.get("reboot_required") == "yes":
        return Finding(
            "reboot",
            "warn",
            "A reboot is required",
            "An upgraded kernel or library is not in use until the server reboots.",
            fix="reboot",
        )
    return Finding("reboot", "ok", "No reboot required", "What was upgraded is what runs.")


def _unattended(facts: dict[str, str]) -> Finding:
    installed = facts.get("unattended", "").endswith("installed")
    if installed and facts.get("unattended_periodic") == "1":
        return Finding(
            "unattended", "ok", "Security updates install themselves", "unattended-upgrades is on."
        )
    return Finding(
        "unattended",
        "warn",
        "Security updates wait for someone",
        "unattended-upgrades is "
        + ("off" if installed else "not installed")
        + ". An upgrade window on the updates page does the same on a schedule.",
    )


def _clock(facts: dict[str, str]) -> Finding:
    if facts.get("ntp") == "yes" or facts.get("time_service"):
        return Finding(
            "clock",
            "ok",
            "The clock is kept in time",
            f"by {facts.get('time_service') or 'systemd'}.",
        )
    return Finding(
        "clock",
        "warn",
        "Nothing keeps the clock in time",
        "Certificates, two-factor codes and logs all depend on the right time.",
    )


def _listening(line: str) -> Listening | None:
    parts = line.split()
    if len(parts) != 2 or ":" not in parts[1]:
        return None
    address, _, port = parts[1].rpartition(":")
    address = address.split("%")[0]
    return Listening(parts[0], address, int(port)) if port.isdigit() else None
