"""Validation of app fields that reach a command line, a path, a URL or the proxy."""

from __future__ import annotations

import re
import shlex
import subprocess
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from panel.validators import validate_plain_text
from servers.validators import validate_host

ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
ROLE_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
VOLUME_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$")
CONTAINER_PATH_RE = re.compile(r"^/[A-Za-z0-9_./@+-]*$")
HEALTH_PATH_RE = re.compile(r"^/[A-Za-z0-9_./~%+-]*(\?[A-Za-z0-9_./~%+=&-]*)?$")


def validate_env_key(value: str) -> None:
    if not ENV_KEY_RE.fullmatch(value):
        raise ValidationError(
            f"“{value[:40]}” is not a variable name: letters, digits and _, not starting "
            "with a digit."
        )


def validate_tag(value: str) -> None:
    if not TAG_RE.fullmatch(value):
        raise ValidationError("A tag is letters, digits, _, . and -, at most 128 characters.")


def validate_role_name(value: str) -> None:
    if not ROLE_RE.fullmatch(value):
        raise ValidationError("A role name is lowercase letters, digits and dashes.")


def validate_domain(value: str) -> None:
    try:
        validate_host(value)
    except ValidationError:
        raise ValidationError(f"“{value[:60]}” is not a domain name.") from None
    if value.replace(".", "").isdigit() or ":" in value:
        raise ValidationError(f"“{value[:60]}” is an address; enter a domain name.")


def validate_volume(value: str) -> None:
    """`name:/path` or `/host/path:/path`, optionally `:ro`; no `..` anywhere."""
    parts = value.split(":")
    if len(parts) == 3 and parts[2] in ("ro", "rw"):
        parts = parts[:2]
    if len(parts) != 2 or ".." in value:
        raise ValidationError(f"“{value[:60]}”: write a volume as name:/path or /host/path:/path.")
    source, target = parts
    source_ok = VOLUME_NAME_RE.fullmatch(source) or CONTAINER_PATH_RE.fullmatch(source)
    if not source_ok or not CONTAINER_PATH_RE.fullmatch(target) or target == "/":
        raise ValidationError(f"“{value[:60]}”: write a volume as name:/path or /host/path:/path.")


def validate_health_path(value: str) -> None:
    if not HEALTH_PATH_RE.fullmatch(value) or len(value) > 200:
        raise ValidationError("The health check path starts with / and has no spaces.")


SCP_LIKE_RE = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9.-]+:[A-Za-z0-9_./~-]+$")
URL_PATH_RE = re.compile(r"^[A-Za-z0-9_./~%+@:-]*$")
SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")
REPO_PATH_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$")


def validate_git_url(value: str, *, allow_local: bool = False) -> None:
    """https://, ssh:// or scp-like git@host:path; never options, `ext::` or other helpers."""
    refused = ValidationError("Use an https://, ssh:// or git@host:path repository address.")
    if not value or value.startswith("-") or "::" in value or any(c.isspace() for c in value):
        raise refused
    if allow_local and value.startswith("/") and ".." not in value:
        return
    if SCP_LIKE_RE.fullmatch(value):
        return
    parts = urlsplit(value)
    if parts.scheme not in ("https", "ssh") or not parts.hostname:
        raise refused
    if parts.password is not None:
        raise ValidationError("Leave the password out of the address: use the token field.")
    validate_host(parts.hostname)
    if not URL_PATH_RE.fullmatch(parts.path) or parts.query or parts.fragment:
        raise refused


def validate_git_ref(value: str) -> None:
    """A commit SHA, or a branch/tag name `git check-ref-format` accepts."""
    validate_plain_text(value)
    if SHA_RE.fullmatch(value):
        return
    if value.startswith("-") or len(value) > 200:
        raise ValidationError("Enter a branch, tag or commit.")
    checked = subprocess.run(
        ["git", "check-ref-format", "--branch", value], capture_output=True, check=False
    )
    if checked.returncode != 0:
        raise ValidationError(f"“{value[:60]}” is not a valid branch, tag or commit name.")


def validate_repo_path(value: str) -> None:
    """A path inside the repository (Dockerfile, build context)."""
    if value and (not REPO_PATH_RE.fullmatch(value) or ".." in value.split("/")):
        raise ValidationError("Enter a path inside the repository, such as docker/Dockerfile.")


def validate_command(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("The command cannot contain a NUL character.")
    try:
        shlex.split(value)
    except ValueError as error:
        raise ValidationError(f"The command does not parse: {error}.") from error


def name_values(text: str) -> dict[str, str]:
    """`NAME=value` lines (blank lines skipped) as a dict; a line without `=`, a bad name or a
    NUL is refused."""
    if "\x00" in text:
        raise ValidationError("Variables cannot contain a NUL character.")
    found = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ValidationError(f"“{line[:40]}”: write NAME=value.")
        validate_env_key(name.strip())
        found[name.strip()] = value
    return found


def validate_container_file(value: str) -> None:
    """An absolute path inside a container for a file: no `..`, not the root."""
    if not CONTAINER_PATH_RE.fullmatch(value) or ".." in value or value.endswith("/"):
        raise ValidationError(
            f"“{value[:60]}”: write an absolute path to a file, e.g. /etc/app.conf."
        )
