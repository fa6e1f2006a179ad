"""What a first start waits for: the database's schema current (the web server migrates it,
and only it: two migrations at once would collide) and the first admin made."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

POLL_SECONDS = 2.0
NO_SCHEMA = "Waiting for the database's migrations (the web server applies them as it starts)."
NO_ADMIN = (
    "No account exists yet, and no page is served until the first admin exists. Create it "
    "with `manage.py ensure_admin` (with compose: "
    "`docker compose run --rm web python manage.py ensure_admin`)."
)


def schema_missing() -> str:
    """NO_SCHEMA while a migration is not applied yet; else ""."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return NO_SCHEMA if executor.migration_plan(executor.loader.graph.leaf_nodes()) else ""


def missing() -> str:
    """What the panel still waits for before it serves or runs anything; "" when nothing."""
    return schema_missing() or ("" if User.objects.exists() else NO_ADMIN)


def wait_for(what: Callable[[], str], timeout: float, say: Callable[[str], None]) -> str:
    """Wait while `what()` names something missing (saying each once); "" when nothing is,
    else what was still missing after `timeout` seconds (0: wait for ever)."""
    deadline = time.monotonic() + timeout if timeout else None
    said: set[str] = set()
    while waited_for := what():
        if waited_for not in said:
            say(waited_for)
            said.add(waited_for)
        if deadline is not None and time.monotonic() > deadline:
            return waited_for
        time.sleep(POLL_SECONDS)
    return ""
