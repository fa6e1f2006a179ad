"""The first admin: made once by `ensure_admin` (its password printed once), and nothing served
or run before it exists (`await_setup`)."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from panel import first_run
from panel.models import Team

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    printed = StringIO()
    call_command(*args, stdout=printed)
    return printed.getvalue()


def run_in_a_thread(*args: str) -> None:
    try:
        run(*args)
    finally:
        connections.close_all()  # this thread's own connection


def test_the_first_admin_is_made_once_and_its_password_printed_once() -> None:
    first = run("ensure_admin", "--username", "root", "--team", "Ops")
    password = first.split("password: ")[1].split()[0]
    user = User.objects.get()
    assert user.is_superuser and user.check_password(password)
    assert Team.objects.get().name == "Ops"
    again = run("ensure_admin")
    assert "exists already" in again and password not in again
    assert User.objects.count() == 1


def test_nothing_starts_before_the_first_admin_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_run, "POLL_SECONDS", 0.05)
    with pytest.raises(CommandError, match="No account exists yet"):
        run("await_setup", "--timeout", "0.2")

    waiting = threading.Thread(target=run_in_a_thread, args=("await_setup", "--timeout", "30"))
    waiting.start()
    User.objects.create_user("first")
    waiting.join(timeout=10)
    assert not waiting.is_alive()
