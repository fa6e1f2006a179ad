"""Where an accessory is reachable from: its name on the panel network, and what it publishes on
the server (the loopback, a private address, or every address). Pure values and checks."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.core.exceptions import ValidationError

LOOPBACK = "127.0.0.1"
EVERYWHERE = "0.0.0.0"  # noqa: S104 (only with the owner's explicit choice, see `publish_for`)
ON_LOOPBACK, ON_PRIVATE, ON_ALL = "loopback", "private", "all"
# Private networks between servers: RFC 1918, and the shared range of overlay networks.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


@dataclass(frozen=True)
class Published:
    address: str
    host_port: int
    port: int

    @property
    def docker(self) -> str:
        """Docker's `--publish` value."""
        return f"{self.address}:{self.host_port}:{self.port}"

    @property
    def private(self) -> bool:
        return self.address not in (LOOPBACK, EVERYWHERE)


def parse(value: str) -> Published:
    address, host_port, port = value.rsplit(":", 2)
    return Published(address, int(host_port), int(port))


def publish_for(on: str, address: str, host_port: int, port: int) -> Published:
    """The publish a form asked for, or a ValidationError saying why it is refused."""
    for number in (host_port, port):
        if not 1 <= number <= 65535:
            raise ValidationError(f"{number} is not a port (1 to 65535).")
    if on == ON_LOOPBACK:
        return Published(LOOPBACK, host_port, port)
    if on == ON_ALL:
        return Published(EVERYWHERE, host_port, port)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise ValidationError(f"“{address[:60]}” is not an IP address.") from None
    if not any(parsed in network for network in PRIVATE_NETWORKS):
        raise ValidationError(
            "Give a private IPv4 address of the server (10.x, 172.16 to 172.31, 192.168.x or "
            "100.64 to 100.127), the one other servers reach it at."
        )
    return Published(str(parsed), host_port, port)


@dataclass(frozen=True)
class Reach:
    who: str
    address: str
    warning: str = ""


def reach(name: str, server: str, port: int, published: list[str]) -> list[Reach]:
    """Each way in, for the page: who reaches it, at which address."""
    at = f":{port}" if port else ""
    ways = [Reach(f"Apps and accessories on {server}, over the panel network", f"{name}{at}")]
    for value in published:
        out = parse(value)
        if out.address == LOOPBACK:
            ways.append(Reach(f"Programs on {server} itself (not its containers)", out.docker))
        elif out.address == EVERYWHERE:
            ways.append(
                Reach(
                    "Anyone who can reach any address of the server, the internet included",
                    f"*:{out.host_port}",
                    warning="Docker's published ports bypass ufw and iptables INPUT rules: a "
                    "firewall on the server does not stop them.",
                )
            )
        else:
            ways.append(Reach(f"Other servers that reach {out.address}", out.docker))
    return ways


def address_for(
    name: str, server_id: int, port: int, published: list[str], app_servers: set[int]
) -> tuple[str, int] | None:
    """How an app on `app_servers` reaches the accessory: by its name when every one of them is
    the accessory's server, else at its private publish; None when it cannot."""
    if app_servers <= {server_id}:
        return name, port
    for value in published:
        out = parse(value)
        if out.private:
            return out.address, out.host_port
    return None
