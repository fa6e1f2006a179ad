"""A server's firewall, pure: the allowed ports as a person writes them, the rules they become
(ufw for what reaches the host, a chain of the panel's in Docker's `DOCKER-USER` for what
reaches published ports, which ufw never sees), and drift between what the panel applied
and what the server has now.

Every value that reaches a rule is a port number, a protocol of two, or a network that
`ipaddress` wrote, so no text a person typed reaches a command."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.core.exceptions import ValidationError

CHAIN = "PANEL-DOCKER"  # jumped to from DOCKER-USER; published ports
INPUT_CHAIN = "PANEL-INPUT"  # jumped to from INPUT where ufw is missing
COMMENT = "panel"  # on each ufw rule the panel adds, so it removes only its own
PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True, order=True)
class Rule:
    """Allow `ports` ("443" or a range "60000:61000") over `proto`, from `source` (a
    network) or from anywhere (`source` "")."""

    ports: str
    proto: str = "tcp"
    source: str = ""

    def __str__(self) -> str:
        return f"{self.ports}/{self.proto}" + (f" from {self.source}" if self.source else "")

    def opens(self, port: int, proto: str) -> bool:
        low, _, high = self.ports.partition(":")
        return proto == self.proto and int(low) <= port <= int(high or low)

    def covers(self, port: int, proto: str, address: str) -> bool:
        return self.opens(port, proto) and (
            not self.source or ipaddress.ip_address(address) in ipaddress.ip_network(self.source)
        )

    def as_dict(self) -> dict[str, str]:
        return {"ports": self.ports, "proto": self.proto, "source": self.source}


def parse_rules(text: str) -> list[Rule]:
    """One rule a line: `443/tcp`, `53/udp`, `60000:61000/udp`, `5432/tcp from 10.0.0.0/8`.
    Raises ValidationError naming every bad line."""
    rules, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            rules.append(parse_rule(line))
        except ValueError as error:
            errors.append(f"Line {number} ({line[:60]}): {error}")
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(rules))


def parse_rule(line: str) -> Rule:
    words = line.split()
    if len(words) not in (1, 3) or (len(words) == 3 and words[1] != "from"):
        raise ValueError("write a port, its protocol and maybe a source: 5432/tcp from 10.0.0.0/8")
    ports, slash, proto = words[0].partition("/")
    proto = proto.lower() if slash else "tcp"
    if proto not in PROTOCOLS:
        raise ValueError("the protocol is tcp or udp")
    return Rule(_ports(ports), proto, _source(words[2]) if len(words) == 3 else "")


def rules_from(stored: list[dict[str, str]]) -> list[Rule]:
    return [Rule(x["ports"], x["proto"], x.get("source", "")) for x in stored]


def text_of(rules: list[Rule]) -> str:
    return "\n".join(str(rule) for rule in rules)


def _ports(text: str) -> str:
    low, colon, high = text.partition(":")
    numbers = [low, high] if colon else [low]
    if not all(x.isascii() and x.isdigit() and 1 <= int(x) <= 65535 for x in numbers):
        raise ValueError("a port is a number from 1 to 65535 (a range: 60000:61000)")
    if colon and int(low) >= int(high):
        raise ValueError("a range goes from the lower port to the higher one")
    return ":".join(str(int(x)) for x in numbers)


def _source(text: str) -> str:
    if text.lower() in ("any", "anywhere"):
        return ""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError("the source is an address or a network, like 10.0.0.0/8") from None
    if network.version != 4:
        raise ValueError("only IPv4 sources can be limited; leave it out to allow IPv6 too")
    return str(network)


def sshd_rule_problem(rules: list[Rule], ssh_port: int, panel_address: str) -> str:
    """Why this rule set would cut the panel's own SSH connection, or ""."""
    if any(rule.covers(ssh_port, "tcp", panel_address) for rule in rules):
        return ""
    return (
        f"These rules would cut the panel's own SSH connection: port {ssh_port}/tcp must "
        f"be allowed from {panel_address}, the address the panel connects from."
    )


def docker_rules(rules: list[Rule]) -> list[str]:
    """The panel's chain for published ports, as `iptables -S` prints it: replies and the
    containers' own connections pass (only connections Docker forwarded to a published
    port, DNAT, are filtered); allowed ports pass by their port before Docker rewrote it."""
    lines = [
        f"-N {CHAIN}",
        f"-A {CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {CHAIN} -m conntrack ! --ctstate DNAT -j RETURN",
    ]
    for rule in rules:
        source = f" -s {rule.source}" if rule.source else ""
        match = f"-m conntrack --ctorigdstport {rule.ports}"
        lines.append(f"-A {CHAIN}{source} -p {rule.proto} {match} -j RETURN")
    return [*lines, f"-A {CHAIN} -j DROP"]


def input_rules(rules: list[Rule]) -> list[str]:
    """Where ufw is missing: the panel's chain for what reaches the host itself. Loopback,
    replies, ping and Docker's own bridges pass; new connections elsewhere must be allowed."""
    lines = [
        f"-N {INPUT_CHAIN}",
        f"-A {INPUT_CHAIN} -i lo -j RETURN",
        f"-A {INPUT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        f"-A {INPUT_CHAIN} -p icmp -j RETURN",
        f"-A {INPUT_CHAIN} -i docker0 -j RETURN",
        f"-A {INPUT_CHAIN} -i br-+ -j RETURN",
    ]
    for rule in rules:
        source = f" -s {rule.source}" if rule.source else ""
        match = "--dport" if ":" not in rule.ports else "-m multiport --dports"
        module = f"-m {rule.proto} " if ":" not in rule.ports else ""
        lines.append(
            f"-A {INPUT_CHAIN}{source} -p {rule.proto} {module}{match} {rule.ports} -j RETURN"
        )
    return [*lines, f"-A {INPUT_CHAIN} -j DROP"]


def ufw_allow(rule: Rule) -> list[str]:
    source = ["from", rule.source] if rule.source else []
    return ["ufw", "allow", "in", "proto", rule.proto, *source, "to", "any", "port",
            rule.ports, "comment", COMMENT]  # fmt: skip


def ufw_delete(rule: Rule) -> list[str]:
    return ["ufw", "delete", *ufw_allow(rule)[1:]]


@dataclass(frozen=True)
class Live:
    """What the firewall of a server is now, as its read script saw it."""

    privilege: str
    ufw: str  # "active", "inactive", or "" where ufw is missing
    docker: bool  # Docker's DOCKER-USER chain exists
    ssh_from: str  # the panel's address, as the server sees it
    ssh_port: int  # sshd's port, as the server sees it
    lines: tuple[str, ...]  # everything that makes up the state, for drift


def parse_live(output: str) -> Live:
    facts: dict[str, str] = {}
    lines: list[str] = []
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in ("privilege", "ufw", "docker", "connection"):
            facts[key] = value.strip()
        elif line.strip():
            lines.append(line.rstrip())
    connection = facts.get("connection", "").split()
    return Live(
        privilege=facts.get("privilege", "none"),
        ufw=facts.get("ufw", ""),
        docker=facts.get("docker") == "yes",
        ssh_from=connection[0] if len(connection) == 4 else "",
        ssh_port=int(connection[3]) if len(connection) == 4 and connection[3].isdigit() else 0,
        lines=tuple(lines),
    )


def drift(applied: list[str], live: Live) -> list[str]:
    """In words, how the live state differs from the state right after the panel applied."""
    now = set(live.lines)
    gone = [f"gone: {line}" for line in applied if line not in now]
    known = set(applied)
    new = [f"not the panel's: {line}" for line in live.lines if line not in known]
    return gone + new
