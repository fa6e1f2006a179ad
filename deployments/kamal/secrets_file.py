"""Reading `.kamal/secrets` (a dotenv file) without running anything in it: a literal value
is taken, anything Kamal would compute (`$(kamal secrets fetch …)`, `$(op read …)`,
`$OTHER`) is kept as text for the person to fill in."""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SecretLine:
    name: str
    value: str | None  # None: Kamal would compute it; `source` says how
    source: str


def read(text: str) -> dict[str, SecretLine]:
    found: dict[str, SecretLine] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not NAME.fullmatch(name):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quoted, value = value[0], value[1:-1]
            computed = quoted == '"' and "$" in value
        else:
            value = value.split(" #", 1)[0].strip()
            computed = "$" in value
        found[name] = SecretLine(name, None if computed else value, value if computed else "")
    return found
