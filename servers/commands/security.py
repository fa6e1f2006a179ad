"""Commands of the security report and its fixes. Pure: argv lists of fixed scripts (no
user input reaches them)."""

from __future__ import annotations

from servers.commands.apt import as_root

LISTENING, END = "--- listening", "--- end"

# Read-only: who the login may be, sshd's effective settings, what listens, the firewall,
# automatic updates, the clock. Root is asked through `sudo -n`, never for a password.
REPORT_SCRIPT = f"""
if [ "$(id -u)" = 0 ]; then as=root; run=
elif sudo -n true 2>/dev/null; then as=sudo; run="sudo -n"
else as=none; run=; fi
echo "privilege=$as"
. /etc/os-release 2>/dev/null; echo "os=${{PRETTY_NAME:-unknown}}"
if [ "$as" != none ]; then
    $run sshd -T 2>/dev/null | grep -iE \
        '^(passwordauthentication|permitrootlogin|kbdinteractiveauthentication) ' | \
        sed 's/^/sshd_/; s/ /=/'
    echo "ufw=$($run ufw status 2>/dev/null | sed -n 's/^Status: //p')"
    echo "input_policy=$($run iptables -S INPUT 2>/dev/null | sed -n 's/^-P INPUT //p')"
    rules=$($run iptables -S DOCKER-USER 2>/dev/null) && \
        echo "docker_user_rules=$(echo "$rules" | grep '^-A' | grep -vc -- '-j RETURN$')"
fi
echo "{LISTENING}"
$run ss -Hltnu 2>/dev/null | awk '{{print $1, $5}}'
$run ss -Hltnp 2>/dev/null | grep -q dockerd && echo "dockerd_listens_tcp=yes"
echo "{END}"
echo "unattended=$(dpkg-query -W -f='${{Status}}' unattended-upgrades 2>/dev/null)"
echo "unattended_periodic=$(apt-config dump APT::Periodic::Unattended-Upgrade 2>/dev/null \
    | sed -n 's/.*"\\(.*\\)";/\\1/p')"
echo "ntp=$(timedatectl show -p NTPSynchronized --value 2>/dev/null)"
for s in systemd-timesyncd chronyd ntpd openntpd; do
    pgrep -x "$s" >/dev/null 2>&1 && echo "time_service=$s" && break
done
[ -e /var/run/reboot-required ] && echo reboot_required=yes
exit 0
"""

HARDENING_FILE = "/etc/ssh/sshd_config.d/10-panel-hardening.conf"
HARDENING = (
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
)
# Written beside, checked by sshd itself (a refused file is removed again), then sshd
# reloads: sessions that are open stay open.
HARDEN_SCRIPT = f"""set -e
f={HARDENING_FILE}
cat > "$f.new" <<END
{chr(10).join(HARDENING)}
END
mv "$f.new" "$f"
if ! sshd -t; then rm -f "$f"; echo "sshd refused the settings; nothing was kept" >&2; exit 1; fi
systemctl reload ssh 2>/dev/null || systemctl reload sshd 2>/dev/null \\
    || kill -HUP "$(cat /run/sshd.pid)"
"""


def report() -> list[str]:
    return ["sh", "-c", REPORT_SCRIPT.strip()]


def harden_ssh(privilege: str) -> list[str]:
    return as_root(privilege, ["sh", "-c", HARDEN_SCRIPT.strip()])


def sshd_settings(privilege: str) -> list[str]:
    return as_root(privilege, ["sshd", "-T"])
