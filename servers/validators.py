"""Validation of every server field that reaches a command line, an address or a path."""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HOSTNAME_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
POSIX_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
LABEL_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
MAX_EXEC_COMMAND = 4096


def validate_name(value: str) -> None:
    if not NAME_RE.fullmatch(value):
        raise ValidationError(
            "Use lowercase letters, digits and dashes, starting with a letter or digit "
            "(at most 63 characters)."
        )


def validate_host(value: str) -> None:
    """A DNS name or an IP address; nothing an SSH client could read as an option."""
    if not value or len(value) > 253:
        raise ValidationError("Enter a host name or IP address (at most 253 characters).")
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    if not all(HOSTNAME_LABEL_RE.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise ValidationError(
            "Enter a host name (letters, digits, dots and dashes) or an IP address."
        )


def validate_posix_user(value: str) -> None:
    if not POSIX_USER_RE.fullmatch(value):
        raise ValidationError(
            "Enter a user name of lowercase letters, digits, _ and -, starting with a letter "
            "or _ (at most 32 characters)."
        )


def validate_label(value: str) -> None:
    if not LABEL_RE.fullmatch(value):
        raise ValidationError(
            f"“{value[:40]}” is not a label: use lowercase letters, digits, dots, _ and -."
        )


def validate_exec_command(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("The command cannot contain a NUL character.")
    if len(value) > MAX_EXEC_COMMAND:
        raise ValidationError(f"Keep the command under {MAX_EXEC_COMMAND} characters.")
    if not value.strip():
        raise ValidationError("Enter a command.")
