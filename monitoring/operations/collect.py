"""A collection round: every due server asked at once over its pooled SSH connection (bounded),
each with a timeout of its own, so a slow or unreachable server delays nobody; one worker runs
the whole round, whatever the number of servers. Its alerts are checked and their
notifications sent before it ends."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.request import urlopen

from django.conf import settings
from django.utils import timezone

from monitoring import commands, docker_api, state
from monitoring.metrics import read
from monitoring.models import HostHealth
from monitoring.operations.evaluate import evaluate_servers
from monitoring.operations.notify import deliver_due
from servers import ssh
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
    healths = state.claim_due(started)
    answers = ssh.run_on_pool(_ask_all(healths)) if healths else []
    errors: dict[str, str] = {}
    readings = []
    for health, answer in zip(healths, answers, strict=True):
        name = health.server.name
        if isinstance(answer, str):
            try:
                readings.append((health, read(answer, state.before(health))))
                continue
            except (ValueError, IndexError) as error:
                answer = RuntimeError(f"its answer could not be read: {error}")
        errors[name] = str(answer) or answer.__class__.__name__
        state.failed(health, errors[name], timezone.now())
    state.recorded(readings, timezone.now())
    if healths:
        evaluate_servers(healths, timezone.now())
        deliver_due()
    seconds = time.monotonic() - clock
    state.round_done(started, seconds, len(healths), len(healths) - len(errors))
    if settings.PANEL_HEARTBEAT_URL:
        heartbeat(settings.PANEL_HEARTBEAT_URL)
    return RoundResult(len(healths), len(healths) - len(errors), seconds, errors)


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


async def _ask_all(healths: list[HostHealth]) -> list[str | BaseException]:
    gate = asyncio.Semaphore(AT_ONCE)

    async def bounded(health: HostHealth) -> str:
        async with gate:
            return await asyncio.wait_for(ask(health), SERVER_TIMEOUT + 5)

    return await asyncio.gather(*(bounded(h) for h in healths), return_exceptions=True)


async def ask(health: HostHealth) -> str:
    """The script's answer, with Docker's part from its API when the server's socket is known
    and reachable through SSH, else from the CLI the script runs."""
    target = target_for(health.server)
    containers: list[str] | None = None
    if health.docker_socket:
        try:
            containers = await _containers(target, health)
        except ssh.ConnectFailed:
            containers = None  # no socket forwarding there: the CLI answers this round
    if containers is None:
        argv = commands.collect(commands.CLI, [])
    else:
        argv = commands.collect(commands.API, docker_api.pids(containers))
    done = await ssh.run(target, argv, timeout=SERVER_TIMEOUT, check=False)
    if not done.ok:
        raise RuntimeError(done.stderr.strip()[-300:] or f"exit {done.exit_status}")
    if containers is None:
        return done.stdout
    return "\n".join([done.stdout, "@containers", *containers])


async def _containers(target: ssh.Target, health: HostHealth) -> list[str]:
    """Docker's containers as lines, asked through its API: the list, then the details of
    those that may have changed since the round before."""
    socket = health.docker_socket
    (answer,) = await ssh.unix_get(target, socket, [docker_api.LIST], timeout=SERVER_TIMEOUT)
    if answer.status != 200:
        raise RuntimeError(f"Docker's API answered {answer.status}")
    containers = docker_api.listing(answer.body)
    before = {c["name"]: c for c in health.latest.get("containers", [])}
    wanted = docker_api.to_inspect(containers, before, timezone.now())
    inspected = {}
    if wanted:
        paths = [docker_api.inspect_path(container) for container in wanted]
        for details in await ssh.unix_get(target, socket, paths, timeout=SERVER_TIMEOUT):
            if details.status == 200:  # a container removed since the list is left out
                found = json.loads(details.body)
                inspected[found["Id"]] = found
    return docker_api.lines(containers, inspected, before)
