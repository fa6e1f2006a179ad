"""A collection round: every due server asked at once over its pooled SSH connection (bounded),
each with a timeout of its own, so a slow or unreachable server delays nobody; one worker runs
the whole round, whatever the number of servers. Its alerts are checked and their
notifications sent before it ends."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.request import urlopen

from django.conf import settings
from django.utils import timezone

from monitoring import commands, state
from monitoring.metrics import read
from monitoring.operations.evaluate import evaluate_servers
from monitoring.operations.notify import deliver_due
from servers import ssh
from servers.models import Server
from servers.targets import target_for

AT_ONCE = 64  # servers asked at the same time
SERVER_TIMEOUT = 20.0  # seconds one server may take
HEARTBEAT_TIMEOUT = 5.0
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoundResult:
    servers: int
    answered: int
    seconds: float
    errors: dict[str, str]


def collect_round() -> RoundResult:
    started, clock = timezone.now(), time.monotonic()
    servers = state.claim_due(started)
    answers = asyncio.run(_ask_all(servers)) if servers else []
    errors: dict[str, str] = {}
    before = state.counters_of(servers)
    for server, answer in zip(servers, answers, strict=True):
        at = timezone.now()
        if isinstance(answer, str):
            try:
                state.recorded(server, read(answer, before.get(server.pk)), at)
                continue
            except (ValueError, IndexError) as error:
                answer = RuntimeError(f"its answer could not be read: {error}")
        errors[server.name] = str(answer) or answer.__class__.__name__
        state.failed(server, errors[server.name], at)
    if servers:
        evaluate_servers(servers, timezone.now())
        deliver_due()
    seconds = time.monotonic() - clock
    state.round_done(started, seconds, len(servers), len(servers) - len(errors))
    if settings.PANEL_HEARTBEAT_URL:
        heartbeat(settings.PANEL_HEARTBEAT_URL)
    return RoundResult(len(servers), len(servers) - len(errors), seconds, errors)


def heartbeat(url: str) -> bool:
    """Tell the dead-man's switch the rounds go on; whether it answered."""
    if urlsplit(url).scheme not in ("http", "https"):
        logger.warning("PANEL_HEARTBEAT_URL is not an http(s) URL; it is not asked.")
        return False
    try:
        with urlopen(url, timeout=HEARTBEAT_TIMEOUT) as answer:  # noqa: S310 (http(s) only)
            return bool(200 <= answer.status < 300)
    except OSError as error:
        logger.warning("The heartbeat URL did not answer: %s", error.__class__.__name__)
        return False


async def _ask_all(servers: list[Server]) -> list[str | BaseException]:
    gate = asyncio.Semaphore(AT_ONCE)

    async def ask(server: Server) -> str:
        async with gate:
            done = await asyncio.wait_for(
                ssh.run(target_for(server), commands.collect(), timeout=SERVER_TIMEOUT,
                        check=False),
                SERVER_TIMEOUT + 5,
            )  # fmt: skip
            if not done.ok:
                raise RuntimeError(done.stderr.strip()[-300:] or f"exit {done.exit_status}")
            return done.stdout

    return await asyncio.gather(*(ask(server) for server in servers), return_exceptions=True)
