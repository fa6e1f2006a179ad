"""Validation of repository fields that reach a command line, a path or a URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from panel.schedules import validate_schedule as validate_schedule  # named by migrations
from servers.validators import validate_host

FOLDER_RE = re.compile(r"^/[A-Za-z0-9_./@+-]*$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9_.@+-]+(/[A-Za-z0-9_.@+-]+)*$")
REGION_RE = re.compile(r"^[a-z0-9-]{0,40}$")
ACCESS_KEY_RE = re.compile(r"^[A-Za-z0-9_./+=-]{1,128}$")


def validate_folder(value: str) -> None:
    """An absolute folder on a server; no `..`, nothing a shell or Docker reads specially."""
    if not FOLDER_RE.fullmatch(value) or ".." in value or value == "/":
        raise ValidationError(f"“{value[:60]}”: write an absolute folder, e.g. /srv/backups.")


def validate_endpoint(value: str) -> None:
    """http(s)://host[:port], nothing else."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query:
        raise ValidationError("Write the endpoint as https://host or https://host:port.")
    if parts.username or parts.password or parts.fragment or not parts.hostname:
        raise ValidationError("Write the endpoint as https://host or https://host:port.")
    validate_host(parts.hostname)
    try:
        parts.port  # noqa: B018 (raises for a port that is not one)
    except ValueError:
        raise ValidationError("The endpoint's port is not a port.") from None


def validate_bucket(value: str) -> None:
    if not BUCKET_RE.fullmatch(value) or ".." in value:
        raise ValidationError(f"“{value[:60]}” is not a bucket name.")


def validate_prefix(value: str) -> None:
    if value and (not PREFIX_RE.fullmatch(value) or ".." in value):
        raise ValidationError(f"“{value[:60]}”: a folder in the bucket, e.g. backups/panel.")


def validate_region(value: str) -> None:
    if not REGION_RE.fullmatch(value):
        raise ValidationError(f"“{value[:40]}” is not a region, e.g. eu-west-1.")


def validate_access_key(value: str) -> None:
    if not ACCESS_KEY_RE.fullmatch(value):
        raise ValidationError("An access key is letters, digits and + / = . _ -.")
