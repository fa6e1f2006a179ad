"""Secrets typed into a form that came back with an error: kept on the server, encrypted in
the session, for the next submit of the same form, and never written back into the page."""

from __future__ import annotations

import time

from django.http import HttpRequest, QueryDict

from panel.crypto import key_ring

SESSION_KEY = "panel_pending_secrets"
KEEP_SECONDS = 3600


def carry(request: HttpRequest, form: str, fields: tuple[str, ...]) -> tuple[QueryDict, set[str]]:
    """The POST data with every secret field that was typed now or on an earlier submit of
    this form filled in, and the names of the fields that hold a typed value (kept in case the
    form comes back with an error)."""
    data = request.POST.copy()
    pending: dict[str, tuple[float, str]] = request.session.get(SESSION_KEY, {})
    now, kept = time.time(), set()
    for name in fields:
        slot = f"{form}|{name}"
        typed = str(data.get(name) or "")
        if typed:
            pending[slot] = (now, key_ring().encrypt(typed, _bound(request, slot)))
            kept.add(name)
        elif slot in pending and now - pending[slot][0] < KEEP_SECONDS:
            data[name] = key_ring().decrypt(pending[slot][1], _bound(request, slot))
            kept.add(name)
    request.session[SESSION_KEY] = pending
    return data, kept


def forget(request: HttpRequest, form: str) -> None:
    """The form was saved: nothing typed into it is kept any longer."""
    pending: dict[str, tuple[float, str]] = request.session.get(SESSION_KEY, {})
    request.session[SESSION_KEY] = {
        slot: held for slot, held in pending.items() if not slot.startswith(f"{form}|")
    }


def _bound(request: HttpRequest, slot: str) -> str:
    """Associated data: a value kept for one user and form opens for that one only."""
    return f"pending-secret|{request.user.pk}|{slot}"
