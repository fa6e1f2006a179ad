"""Shell-injection and path payloads every shell-bound field is tried with."""

from __future__ import annotations

CANARY = "/tmp/canary"

PAYLOADS = [
    f";touch {CANARY}",
    f"$(touch {CANARY})",
    f"`touch {CANARY}`",
    f"x|touch {CANARY}",
    f"x && touch {CANARY}",
    f"x\ntouch {CANARY}",
    "x'\"quoted\"'",
    "-oProxyCommand=touch /tmp/canary",
    "../../etc/passwd",
    "x\x00y",
    "a" * 10_000,
]
