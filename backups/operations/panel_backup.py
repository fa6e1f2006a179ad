"""The panel's own database backed up: a consistent copy (SQLite's online backup, or pg_dump)
streamed over SSH into restic on a server of the panel's, never with the key ring that decrypts
its secrets (which lives in a file or a variable beside the panel, named on the page)."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from backups import state
from backups.models import PanelPolicy
from backups.operations.backup import BACKUP_TIMEOUT, Restic, opened, summary_of, words_of
from panel.audit import Actor
from panel.crypto import key_ring
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from servers import ssh
from servers.ssh_types import CommandFailed

DUMP_NAME = {"sqlite": "panel.sqlite3", "postgresql": "panel.sql"}


def back_up_panel(ctx: JobContext) -> None:
    policy = PanelPolicy.objects.select_related("repository__team", "server__ssh_key").get()
    repository = policy.repository
    if locks.acquire(repository.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{repository.name} is busy with another job; nothing was backed up.")
    actor, started = Actor.of_job(ctx.job), time.monotonic()
    try:
        restic = opened(ctx, repository, policy.server)
        made, summary = _streamed(ctx, restic)
    except JobFailed as failure:
        state.recorded(actor, repository, None, ctx.job, error=str(failure))
        raise
    backup = state.recorded(
        actor, repository, None, ctx.job, snapshot_id=made,
        bytes_read=int(summary.get("total_bytes_processed", 0)),
        bytes_added=int(summary.get("data_added", 0)), seconds=time.monotonic() - started,
    )  # fmt: skip
    ctx.log(f"Snapshot {made[:8]} of the panel's database in {repository.name}: "
            f"{backup.bytes_read} bytes read, {backup.bytes_added} added.")  # fmt: skip
    kept = restic.run(["forget", "--tag", "panel", *policy.keep, "--prune"], BACKUP_TIMEOUT)
    if not kept.ok:
        raise JobFailed(f"Snapshot {made[:8]} is made, but forgetting what is not kept failed: "
                        f"{words_of(kept.stderr)}")  # fmt: skip


def key_ring_fingerprint() -> str:
    """What identifies the key ring (its ids and keys), without showing any key."""
    ring = key_ring()
    digest = hashlib.sha256()
    for key_id, key in sorted(ring.keys.items()):
        digest.update(key_id.encode() + b":" + key)
    return digest.hexdigest()[:16]


def key_ring_place() -> str:
    key_file = settings.PANEL_ENCRYPTION_KEY_FILE
    return f"the file {key_file}" if key_file else "the PANEL_ENCRYPTION_KEYS variable"


def _streamed(ctx: JobContext, restic: Restic) -> tuple[str, dict[str, Any]]:
    vendor = connection.vendor
    name = DUMP_NAME.get(vendor)
    if name is None:
        raise JobFailed(f"The panel cannot back up a {vendor} database yet.")
    args = ["backup", "--json", "--stdin", "--stdin-filename", name, "--host", "panel",
            "--tag", "panel"]  # fmt: skip
    with _source(vendor) as (source, env):
        ctx.log(f"The panel's database ({vendor}) streamed into restic on {restic.server.name}")
        try:
            done = asyncio.run(ssh.pipe(None, source, restic.target, restic.argv(args, stdin=True),
                                        timeout=BACKUP_TIMEOUT, local_env=env))  # fmt: skip
        except CommandFailed as failure:
            partial = str(summary_of(failure.result.stdout).get("snapshot_id", ""))
            if partial:
                restic.forget(partial)
            raise JobFailed(f"The backup of the panel's database failed: {failure}") from failure
    summary = summary_of(done.stdout)
    return str(summary.get("snapshot_id", "")), summary


@contextmanager
def _source(vendor: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The command that prints a consistent copy of the database, and its variables."""
    if vendor == "postgresql":
        db = connection.settings_dict
        argv = ["pg_dump", "--no-password", "--host", str(db.get("HOST") or "localhost"),
                "--port", str(db.get("PORT") or 5432), "--username", str(db.get("USER", "")),
                str(db["NAME"])]  # fmt: skip
        yield argv, {"PGPASSWORD": str(db.get("PASSWORD", ""))}
        return
    with tempfile.TemporaryDirectory(dir=settings.PANEL_DATA_DIR) as folder:
        copy = Path(folder) / "panel.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(copy)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        copy.chmod(0o600)
        yield ["cat", str(copy)], {}
