"""The one kind of failure a person is shown as it is: its message names what went wrong and
where, and no stack trace goes with it. Jobs fail with it, the executor raises it."""

from __future__ import annotations


class PanelError(Exception):
    """A failure with a message for the user."""
