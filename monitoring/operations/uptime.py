"""Uptime checks: every address asked at once from the panel (bounded, each with its own
timeout) as a visitor would, over HTTP(S) with the system's trusted certificates; its status,
how long it took and when its certificate expires recorded; its alerts checked."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.utils import timezone

from monitoring import alerting, state
from monitoring.conditions import Firing
from monitoring.models import AlertKind, UptimeCheck
from monitoring.operations.notify import deliver_due

AT_ONCE = 32
TIMEOUT = 10.0  # seconds
# Host name → address to connect to instead of asking DNS; empty in production (the lab maps
# its test domains here, as a browser's host rules would).
RESOLVE: dict[str, str] = {}


@dataclass(frozen=True)
class Probe:
    ok: bool
    status: int | None
    latency_ms: float | None
    error: str
    certificate_expires_at: datetime | None = None


async def probe(url: str, timeout: float = TIMEOUT) -> Probe:
    """GET the address; up when it answers 2xx or 3xx within the timeout."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                RESOLVE.get(host, host), port,
                ssl=ssl.create_default_context() if secure else None,
                server_hostname=host if secure else None,
            )  # fmt: skip
            expires = _expiry(writer.get_extra_info("peercert")) if secure else None
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: "
                         "panel-uptime\r\nConnection: close\r\n\r\n".encode())  # fmt: skip
            await writer.drain()
            first = await reader.readline()
            writer.close()
    except TimeoutError:
        return Probe(False, None, None, f"no answer within {timeout:.0f} s")
    except ssl.SSLCertVerificationError as error:
        return Probe(False, None, None, f"its certificate is not trusted: {error.verify_message}")
    except (OSError, ssl.SSLError) as error:
        return Probe(False, None, None, str(error) or error.__class__.__name__)
    latency = (time.monotonic() - started) * 1000
    words = first.decode("latin-1").split()
    status = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
    ok = status is not None and 200 <= status < 400
    said = "" if ok else f"it answered {first.decode('latin-1').strip()[:100] or 'nothing'}"
    return Probe(ok, status, round(latency, 1), said, expires)


def _expiry(certificate: object) -> datetime | None:
    if not isinstance(certificate, dict) or "notAfter" not in certificate:
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(certificate["notAfter"]), tz=UTC)


def check_all() -> int:
    """One minute's checks: app domains kept in step, every check asked, alerts checked and
    their notifications sent. Returns how many were up."""
    state.sync_app_checks()
    checks = list(UptimeCheck.objects.all())
    probes = asyncio.run(_probe_all([check.url for check in checks])) if checks else []
    now = timezone.now()
    up = 0
    for check, result in zip(checks, probes, strict=True):
        state.probed(check, result.ok, result.status, result.latency_ms, result.error,
                     result.certificate_expires_at, now)  # fmt: skip
        up += result.ok
        _alerts(check, now)
    deliver_due()
    return up


async def _probe_all(urls: list[str]) -> list[Probe]:
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(url: str) -> Probe:
        async with gate:
            return await probe(url)

    return await asyncio.gather(*(one(url) for url in urls))


def _alerts(check: UptimeCheck, now: datetime) -> None:
    rules = alerting.rules_for(check.team_id, None)
    firing = []
    failing, expiring = rules[AlertKind.UPTIME], rules[AlertKind.CERTIFICATE]
    if failing.enabled and check.failures >= failing.threshold:
        why = f"{check.failures} checks in a row failed: {check.last_error}"
        firing.append(Firing(AlertKind.UPTIME, check.url, f"{check.url} is down", why))
    expires = check.certificate_expires_at
    if expiring.enabled and expires and (expires - now).days < expiring.threshold:
        firing.append(Firing(AlertKind.CERTIFICATE, check.url,
                             f"The certificate of {check.url} expires {expires:%Y-%m-%d}",
                             f"Fewer than {expiring.threshold:g} days left."))  # fmt: skip
    alerting.reconcile(check.team_id, None, [AlertKind.UPTIME, AlertKind.CERTIFICATE], firing,
                       now, subject=check.url)  # fmt: skip
