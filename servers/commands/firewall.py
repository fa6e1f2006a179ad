"""Commands of the firewall: a read-only script, and the script that puts the panel's chains
in place. Their rule lines come from `servers.firewall`, built of validated values only."""

from __future__ import annotations

from servers.commands.apt import as_root
from servers.firewall import CHAIN, INPUT_CHAIN, Rule, docker_rules, input_rules

SCRIPT_PATH = "/etc/panel/firewall.sh"
UNIT = "panel-firewall.service"

# The panel's own address and sshd's port are read before any sudo (which clears them).
READ_SCRIPT = f"""
echo "connection=$SSH_CONNECTION"
if [ "$(id -u)" = 0 ]; then as=root; run=
elif sudo -n true 2>/dev/null; then as=sudo; run="sudo -n"
else as=none; run=; fi
echo "privilege=$as"
[ "$as" = none ] && exit 0
if command -v ufw >/dev/null 2>&1 || [ -x /usr/sbin/ufw ]; then
    state=$($run ufw status verbose 2>/dev/null)
    echo "ufw=$(echo "$state" | sed -n 's/^Status: //p')"
    echo "$state" | sed 's/^/ufw: /; s/ *$//'
fi
$run iptables -S DOCKER-USER >/dev/null 2>&1 && echo docker=yes
$run iptables -S DOCKER-USER 2>/dev/null | grep -F -- '-j {CHAIN}'
$run iptables -S {CHAIN} 2>/dev/null
$run iptables -S INPUT 2>/dev/null | grep -F -- '-j {INPUT_CHAIN}'
$run iptables -S {INPUT_CHAIN} 2>/dev/null
exit 0
"""

_UNIT_TEXT = f"""[Unit]
Description=The panel's firewall rules (published ports, and the host where ufw is missing)
After=docker.service ufw.service network-pre.target

[Service]
Type=oneshot
ExecStart=/bin/sh {SCRIPT_PATH}
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
"""


def read() -> list[str]:
    return ["sh", "-c", READ_SCRIPT.strip()]


def chains_script(rules: list[Rule], *, with_ufw: bool) -> str:
    """Each chain is replaced in one `iptables-restore` (all its rules at once, or none),
    then jumped to. Where ufw filters the host, the panel's INPUT chain goes."""
    chains = [docker_rules(rules)] + ([] if with_ufw else [input_rules(rules)])
    restore = ["*filter"]
    for lines in chains:
        name = lines[0].removeprefix("-N ")
        restore += [f":{name} - [0:0]", f"-F {name}", *lines[1:]]
    restore.append("COMMIT")
    body = "\n".join(restore)
    docker_jump = _jump("DOCKER-USER", CHAIN)
    jumps = f"if iptables -S DOCKER-USER >/dev/null 2>&1; then\n    {docker_jump}\nfi\n"
    if with_ufw:
        jumps += (
            f"if iptables -S {INPUT_CHAIN} >/dev/null 2>&1; then\n"
            f"    iptables -D INPUT -j {INPUT_CHAIN} 2>/dev/null || true\n"
            f"    iptables -F {INPUT_CHAIN}; iptables -X {INPUT_CHAIN}\n"
            f"fi\n"
        )
    else:
        jumps += _jump("INPUT", INPUT_CHAIN) + "\n"
    return f"set -e\niptables-restore --noflush <<'END'\n{body}\nEND\n{jumps}"


def _jump(parent: str, chain: str) -> str:
    return f"iptables -C {parent} -j {chain} 2>/dev/null || iptables -I {parent} 1 -j {chain}"


SCRIPT = "the firewall script"  # the name the install script goes on stdin under


def run_script(privilege: str) -> list[str]:
    """The install script comes on stdin (the preview shows it as it is, unquoted)."""
    return as_root(privilege, ["sh", "-s"])


def install_script(rules: list[Rule], *, with_ufw: bool) -> str:
    """Write the chains' script where a boot runs it again (a unit, where systemd runs),
    and run it now."""
    script = chains_script(rules, with_ufw=with_ufw)
    return f"""set -e
umask 022
mkdir -p {SCRIPT_PATH.rsplit("/", 1)[0]}
cat > {SCRIPT_PATH}.new <<'PANEL_RULES'
{script}PANEL_RULES
mv {SCRIPT_PATH}.new {SCRIPT_PATH}
sh {SCRIPT_PATH}
if [ -d /run/systemd/system ]; then
    cat > /etc/systemd/system/{UNIT} <<'PANEL_UNIT'
{_UNIT_TEXT}PANEL_UNIT
    systemctl daemon-reload
    systemctl enable --quiet {UNIT}
else
    echo "No systemd here: these rules last until the next boot."
fi
"""


def ufw(privilege: str, argv: list[str]) -> list[str]:
    return as_root(privilege, argv)
