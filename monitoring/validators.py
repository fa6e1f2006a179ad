from __future__ import annotations

import string
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from servers.validators import validate_host

# What a path and query may hold: printable ASCII without spaces or quotes.
URL_TAIL = set(string.ascii_letters + string.digits + "-._~/?&=%+:@!$,;*()")


def validate_check_url(value: str) -> None:
    """http(s)://host[:port][/path][?query], without credentials or spaces."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Write an address such as https://shop.example.com/health.")
    if parts.username or parts.password or parts.fragment:
        raise ValidationError("An uptime check's address holds no user, password or #fragment.")
    validate_host(parts.hostname)
    try:
        parts.port  # noqa: B018 (raises for a port that is not one)
    except ValueError:
        raise ValidationError("The address's port is not a port.") from None
    tail = parts.path + ("?" + parts.query if parts.query else "")
    if not set(tail) <= URL_TAIL or len(value) > 500:
        raise ValidationError("The address's path holds characters it may not.")
