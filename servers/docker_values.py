"""Values as Docker writes them: the address its clients use, its times. Pure."""

from __future__ import annotations

from datetime import datetime


def socket_path(docker_host: str) -> str:
    """The unix socket Docker listens on, from a host's DOCKER_HOST; "" when it is not one
    (a TCP or SSH address)."""
    scheme, _, path = docker_host.strip().partition("://")
    return path if scheme == "unix" and path.startswith("/") else ""


def docker_time(text: str) -> datetime | None:
    """A time of Docker's (nanoseconds, a Z) as a datetime; None when empty or unreadable."""
    try:
        return datetime.fromisoformat(text[:26].rstrip("Z") + "+00:00") if text else None
    except ValueError:
        return None
