"""The security report read from a server's answer, and its findings: pure."""

from __future__ import annotations

from servers.commands.security import END, HARDENING_FILE, LISTENING
from servers.os_plans import plan_ssh_hardening
from servers.plans import Host
from servers.security import findings, parse

OPEN = f"""privilege=sudo
os=Debian GNU/Linux 12 (bookworm)
sshd_permitrootlogin=yes
sshd_passwordauthentication=yes
sshd_kbdinteractiveauthentication=no
ufw=inactive
input_policy=ACCEPT
docker_user_rules=0
{LISTENING}
tcp 0.0.0.0:22
tcp [::]:22
tcp 0.0.0.0:5432
tcp 127.0.0.1:6379
tcp 0.0.0.0:2375
udp 127.0.0.53%lo:53
{END}
unattended=
unattended_periodic=
ntp=
reboot_required=yes
"""

CLOSED = """privilege=root
sshd_permitrootlogin=without-password
sshd_passwordauthentication=no
sshd_kbdinteractiveauthentication=no
ufw=active
input_policy=DROP
--- listening
tcp 0.0.0.0:22
tcp 0.0.0.0:443
tcp 10.0.0.5:5432
--- end
unattended=install ok installed
unattended_periodic=1
ntp=yes
"""


def _levels(output: str, updates: int | None) -> dict[str, str]:
    return {f.key: f.level for f in findings(parse(output), security_updates=updates, ssh_port=22)}


def test_an_open_server_gets_a_finding_for_each_way_in() -> None:
    report = parse(OPEN)
    assert [(x.port, x.address, x.public) for x in report.listening if x.proto == "tcp"] == [
        (22, "0.0.0.0", True), (22, "[::]", True), (2375, "0.0.0.0", True),
        (5432, "0.0.0.0", True), (6379, "127.0.0.1", False),
    ]  # fmt: skip
    assert _levels(OPEN, 3) == {
        "ssh-passwords": "bad", "ssh-root": "bad", "ports": "warn", "firewall": "warn",
        "docker-tcp": "bad", "updates": "bad", "reboot": "warn", "unattended": "warn",
        "clock": "warn",
    }  # fmt: skip
    by_key = {f.key: f for f in findings(report, security_updates=3, ssh_port=22)}
    assert "2375/tcp, 5432/tcp" in by_key["ports"].title
    assert "DOCKER-USER" in by_key["firewall"].why
    assert by_key["ssh-passwords"].fix == "ssh-hardening" and by_key["updates"].fix == "upgrade"


def test_a_closed_server_is_fine_and_an_unprivileged_login_reads_less() -> None:
    assert set(_levels(CLOSED, 0).values()) == {"ok"}
    unprivileged = _levels("privilege=none\n--- listening\ntcp 0.0.0.0:22\n--- end\n", None)
    assert unprivileged["ssh-passwords"] == "unknown" and unprivileged["firewall"] == "unknown"
    assert unprivileged["updates"] == "unknown"


def test_the_ssh_fix_writes_one_file_checked_by_sshd_before_it_reloads() -> None:
    commands = plan_ssh_hardening(Host(1, "web-1"), "sudo").commands()
    assert commands[0].startswith("[web-1] sudo -n sh -c ") and HARDENING_FILE in commands[0]
    assert "sshd -t" in commands[0] and "PasswordAuthentication no" in commands[0]
    assert commands[1] == "[web-1] sudo -n sshd -T"
    assert plan_ssh_hardening(Host(1, "web-1"), "root").commands()[1] == "[web-1] sshd -T"
