"""A job's log: redacted, batched into the database, and published for live followers."""

from __future__ import annotations

import functools
import json
import logging
import threading
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from panel.log_kinds import LogKind
from panel.models import Job, JobLogLine
from panel.sensitive import REDACTED, Sensitive

logger = logging.getLogger(__name__)

MAX_LINE_CHARS = 8000
MIN_SECRET_CHARS = 4


def channel_name(job_id: int) -> str:
    return f"panel:job:{job_id}"


@dataclass(frozen=True)
class PendingLine:
    at_iso: str
    kind: str
    text: str


class Redactor:
    """Replaces every known secret value in a line with [REDACTED], longest first."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | Sensitive[str]) -> None:
        value = secret.reveal() if isinstance(secret, Sensitive) else secret
        # A multi-line secret (a key, a certificate) may be printed one line at a time.
        parts = {value, *value.splitlines()}
        with self._lock:
            self._secrets.update(p for p in parts if len(p.strip()) >= MIN_SECRET_CHARS)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class JobLog:
    """Collects lines from any thread; `flush` writes them in one transaction and publishes."""

    def __init__(self, job_id: int, redactor: Redactor | None = None) -> None:
        self.job_id = job_id
        self.redact = redactor or Redactor()
        self._pending: list[PendingLine] = []
        self._lock = threading.Lock()
        self._has_lines = threading.Event()

    def write(self, text: str, kind: str = LogKind.INFO) -> None:
        now = timezone.now().isoformat()
        for raw in text.splitlines() or [""]:
            line = self.redact(raw)
            if len(line) > MAX_LINE_CHARS:
                line = line[:MAX_LINE_CHARS] + " …(line cut)"
            with self._lock:
                self._pending.append(PendingLine(now, kind, line))
        self._has_lines.set()

    def wait_for_lines(self, timeout: float) -> bool:
        return self._has_lines.wait(timeout)

    def flush(self) -> int:
        with self._lock:
            batch, self._pending = self._pending, []
            self._has_lines.clear()
        if not batch:
            return 0
        rows = append_lines(self.job_id, batch)
        publish(self.job_id, [line_payload(row) for row in rows])
        return len(rows)


def append_lines(job_id: int, batch: list[PendingLine]) -> list[JobLogLine]:
    """Give the lines the job's next sequence numbers and store them."""
    with transaction.atomic():
        job = Job.objects.select_for_update().only("next_seq").get(pk=job_id)
        start = job.next_seq
        rows = [
            JobLogLine(job_id=job_id, seq=start + i, at=line.at_iso, kind=line.kind, text=line.text)
            for i, line in enumerate(batch)
        ]
        JobLogLine.objects.bulk_create(rows)
        Job.objects.filter(pk=job_id).update(next_seq=start + len(rows))
    return rows


def line_payload(row: JobLogLine) -> dict[str, object]:
    at = row.at if isinstance(row.at, str) else row.at.isoformat()
    return {"seq": row.seq, "at": at, "kind": row.kind, "text": row.text}


def publish(job_id: int, payloads: list[dict[str, object]], *, end: bool = False) -> None:
    """Tell live followers about new lines (and the end); without Redis they poll the DB."""
    if not settings.REDIS_URL:
        return
    try:
        client = _redis_client()
        with client.pipeline(transaction=False) as pipe:
            for payload in payloads:
                pipe.publish(channel_name(job_id), json.dumps(payload))
            if end:
                pipe.publish(channel_name(job_id), json.dumps({"end": True}))
            pipe.execute()
    except Exception:  # followers fall back to polling; the lines are already stored
        logger.warning("could not publish log lines of job %s", job_id, exc_info=True)


@functools.cache
def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
