"""Sizes as people read them, the same on every page and in every job log."""

from __future__ import annotations


def gib(size: object) -> str:
    """Bytes in GiB (powers of 1024, named so)."""
    return f"{size / 2**30:.1f} GiB" if isinstance(size, int) else "unknown"
