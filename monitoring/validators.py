from __future__ import annotations

import re
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


UNIT_RE = re.compile(r"[A-Za-z0-9@._:-]{1,200}")
PRIORITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
LOG_FILE_RE = re.compile(r"/var/log/[A-Za-z0-9._/\-]{1,200}")


def validate_unit(value: str) -> None:
    if value and not UNIT_RE.fullmatch(value):
        raise ValidationError("A unit name holds letters, digits and @ . _ : - only.")


def validate_priority(value: str) -> None:
    if value and value not in PRIORITIES:
        raise ValidationError(f"A priority is one of {', '.join(PRIORITIES)}.")


def validate_log_file(value: str) -> None:
    if value and (not LOG_FILE_RE.fullmatch(value) or "/../" in value or value.endswith("/..")):
        raise ValidationError("Name a file under /var/log, e.g. /var/log/syslog.")
