"""Sizes and durations as people read them, the same on every page and in every job log."""

from __future__ import annotations


def gib(size: object) -> str:
    """Bytes in GiB (powers of 1024, named so)."""
    return f"{size / 2**30:.1f} GiB" if isinstance(size, int) else "unknown"


def duration(seconds: float) -> str:
    """`42 s`, `7 min`, `3 h 12 min`, `5 d 4 h`."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} d {whole % 86400 // 3600} h"
