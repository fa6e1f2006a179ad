"""Secrets the panel needs to start: from the environment, or from 0600 files in the data dir."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def load_or_create(path: Path, make: Callable[[], str], *, create: bool) -> str:
    """Return the file's content; create it with mode 0600 when allowed and missing."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ImproperlyConfigured(f"{path} must not be readable by others (mode 0600).")
        return path.read_text().strip()
    if not create:
        raise ImproperlyConfigured(
            f"{path.name} is missing: set it in the environment or create {path} (mode 0600)."
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def new_encryption_key_line() -> str:
    """One key ring entry: `<key id>:<base64 of 32 random bytes>`."""
    key_id = secrets.token_hex(4)
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"
