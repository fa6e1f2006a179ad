"""Where a runbook's HTTP step may go. Not, unless an admin allows it for the runbook: the
panel's own machine (loopback), link-local addresses (the clouds' metadata service among
them), or the panel's database; never a URL with a password in it or another scheme."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

METADATA = ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")  # AWS/GCP/Azure, Alibaba


class Unreachable(ValueError):
    """The URL may not be asked, and why."""


def check_url(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL, or Unreachable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unreachable("The URL starts with http:// or https:// and names a host.")
    if parts.username or parts.password:
        raise Unreachable("Put credentials in a header from a secret, never in the URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Unreachable("The URL's port is not a number from 1 to 65535.") from None
    return parts.hostname, port


def refused(url: str, *, allow_internal: bool) -> str:
    """Why the step may not ask this URL now ("" if it may); the name is resolved here, and
    every address it resolves to is checked."""
    try:
        host, port = check_url(url)
    except Unreachable as error:
        return str(error)
    try:
        found = {str(x[4][0]) for x in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except OSError:
        return f"{host} does not resolve."
    if allow_internal:
        return ""
    for address in sorted(found):
        ip = ipaddress.ip_address(address.split("%")[0])
        if str(ip) in METADATA or ip.is_link_local:
            return f"{host} is {ip}, a link-local address (a cloud's metadata service)."
        if ip.is_loopback or ip.is_unspecified:
            return f"{host} is {ip}: the panel's own machine."
        if ip.is_multicast or ip.is_reserved:
            return f"{host} is {ip}, which is not a server."
        if (str(ip), port) in _database_addresses():
            return f"{host}:{port} is the panel's own database."
    return ""


def _database_addresses() -> set[tuple[str, int]]:
    found = set()
    for database in settings.DATABASES.values():
        host, port = database.get("HOST"), int(database.get("PORT") or 5432)
        if not host or str(host).startswith("/"):
            continue
        try:
            found |= {(str(x[4][0]), port) for x in socket.getaddrinfo(host, port)}
        except OSError:
            continue
    return found
