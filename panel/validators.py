"""Validators shared by several apps for values that reach a command line."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# No text input of the panel needs more; larger values are refused before any view runs.
MAX_TEXT_CHARS = 128 * 1024
# Control characters but tab, newline and carriage return; then lone surrogates and the
# replacement character, which is what bytes that were not UTF-8 became on the way in.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
NOT_UTF8_RE = re.compile("[\ud800-\udfff\ufffd]")

# registry[:port]/path[:tag][@digest], as Docker reads image references.
IMAGE_REFERENCE_RE = re.compile(
    r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]{1,5})?"
    r"(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(@sha256:[a-f0-9]{64})?$"
)


def validate_image_reference(value: str) -> None:
    if len(value) > 255 or ".." in value or not IMAGE_REFERENCE_RE.fullmatch(value):
        raise ValidationError(
            "Enter an image reference such as caddy:2 or registry.example.com/team/app:1.4."
        )


def unsafe_text_reason(value: str) -> str | None:
    """Why a piece of text can reach no field, command or query of the panel, or None.

    Control characters (NUL among them) break commands, paths and SQL; lone surrogates cannot
    be encoded at all, and U+FFFD marks bytes that were not UTF-8 when they arrived. All are
    refused once, where input arrives (`panel.middleware`, the API's body parser)."""
    if len(value) > MAX_TEXT_CHARS:
        return f"is longer than {MAX_TEXT_CHARS // 1024} KiB"
    if found := CONTROL_RE.search(value):
        return f"contains a control character (U+{ord(found.group()):04X})"
    if found := NOT_UTF8_RE.search(value):
        return f"contains text that is not valid UTF-8 (U+{ord(found.group()):04X})"
    return None


def unsafe_label(name: str) -> str:
    """A field name fit to show back in an error, whatever it holds."""
    return name if unsafe_text_reason(name) is None else "(a field name)"


def validate_plain_text(value: str) -> None:
    reason = unsafe_text_reason(value)
    if reason:
        raise ValidationError(f"This value {reason}.")
