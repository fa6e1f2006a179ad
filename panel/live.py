"""What live pages receive: server-sent events whose data is HTML rendered here, a log line
from its one template, so htmx's SSE extension only swaps it in (a line's text is always
escaped: log lines are text, never markup)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from django.template.loader import get_template


def event(name: str, html: str, event_id: int | None = None) -> str:
    """One event; each line of the HTML is a `data:` line of its own."""
    head = [f"id: {event_id}"] if event_id is not None else []
    data = [f"data: {part}" for part in html.splitlines() or [""]]
    return "\n".join([*head, f"event: {name}", *data]) + "\n\n"


def log_line(
    text: str, *, kind: str = "", seq: int | None = None, at: datetime | str | None = None,
    source: str = "",
) -> str:  # fmt: skip
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    context = {"text": text, "kind": kind, "seq": seq, "at": at, "source": source}
    return str(_line_template().render(context)).strip()


@cache
def _line_template() -> Any:  # read once: a busy log renders it for every line
    return get_template("panel/_log_line.html")
