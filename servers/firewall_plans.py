"""The plan that puts a server's firewall in place. Pure: the wanted rules, the rules the
panel applied before and the live state in; the plan out (or why none may run)."""

from __future__ import annotations

from servers.commands import firewall as commands
from servers.firewall import Live, Rule, sshd_rule_problem, ufw_allow, ufw_delete
from servers.plans import Host, Phase, Plan, Run, lane

UFW, CHAINS = "Allow the ports (ufw)", "Published ports and the host (iptables)"


class Refused(ValueError):
    """The rules may not be applied as they are; nothing runs."""


def ssh_first(rules: list[Rule], ssh_port: int) -> list[Rule]:
    return sorted(rules, key=lambda rule: not rule.opens(ssh_port, "tcp"))


def plan_firewall(host: Host, rules: list[Rule], before: list[Rule], live: Live) -> Plan:
    """With ufw: its rules added first (SSH's first of all), then incoming traffic denied by
    default and ufw on, then the panel's rules no longer wanted taken away: at no point is
    the panel's SSH port closed. Then the chains, each replaced at once."""
    if live.privilege == "none":
        raise Refused("The login is neither root nor allowed sudo without a password.")
    if not live.ssh_from or not live.ssh_port:
        raise Refused("The server did not say where the panel's SSH connection comes from.")
    problem = sshd_rule_problem(rules, live.ssh_port, live.ssh_from)
    if problem:
        raise Refused(problem)
    with_ufw = bool(live.ufw)
    phases = []
    if with_ufw:
        steps = [Run(host, tuple(commands.ufw(live.privilege, ufw_allow(rule))), title=str(rule))
                 for rule in ssh_first(rules, live.ssh_port)]  # fmt: skip
        steps += [
            Run(host, tuple(commands.ufw(live.privilege, ["ufw", "default", "deny", "incoming"]))),
            Run(host, tuple(commands.ufw(live.privilege, ["ufw", "--force", "enable"]))),
        ]
        steps += [Run(host, tuple(commands.ufw(live.privilege, ufw_delete(rule))), check=False)
                  for rule in before if rule not in rules]  # fmt: skip
        phases.append(Phase(UFW, (lane(*steps),)))
    install = Run(host, tuple(commands.run_script(live.privilege)), title=CHAINS,
                  stdin=commands.SCRIPT)  # fmt: skip
    phases.append(Phase(CHAINS, (lane(install),)))
    return Plan(tuple(phases))
