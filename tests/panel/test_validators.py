from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from panel.validators import validate_image_reference


@pytest.mark.parametrize(
    "image",
    [
        "caddy:2",
        "caddy",
        "registry.example.com:5000/team/app:1.4",
        "10.213.7.1:5000/lab/app:v1",
        "ghcr.io/org/app@sha256:" + "a" * 64,
        "app:Release_1.2-rc",
    ],
)
def test_image_references_are_accepted(image: str) -> None:
    validate_image_reference(image)


@pytest.mark.parametrize(
    "image", ["-x", "Caddy:2", "caddy:2 ls", "a/../b", "caddy;ls", "caddy:", "/caddy", "a" * 300]
)
def test_malformed_image_references_are_refused(image: str) -> None:
    with pytest.raises(ValidationError):
        validate_image_reference(image)
