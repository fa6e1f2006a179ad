"""Validators shared by several apps for values that reach a command line."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

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
