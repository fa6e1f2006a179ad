"""The one executor: runs argv lists on servers over pooled asyncssh connections.

Connections live on one event loop in a background thread of each process, so every job
and every async view shares one connection per server. Callers on any loop await the
functions below; the work is handed to the pool's loop and the result comes back.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from panel.log_kinds import LogKind
from servers.ssh_pool import CONNECT_TIMEOUT, close_listener, fetch_key, on_pool, pool, pool_loop

# What callers of the executor name as ssh.<Type>:
from servers.ssh_types import CommandFailed as CommandFailed
from servers.ssh_types import CommandResult as CommandResult
from servers.ssh_types import CommandTimeout as CommandTimeout
from servers.ssh_types import ConnectFailed as ConnectFailed
from servers.ssh_types import ConnectionDropped as ConnectionDropped
from servers.ssh_types import HostKeyMismatch as HostKeyMismatch
from servers.ssh_types import LogFn as LogFn
from servers.ssh_types import SshError as SshError
from servers.ssh_types import Target as Target
from servers.tunnel_http import HttpResponse as HttpResponse

T = TypeVar("T")

DEFAULT_TIMEOUT = 120.0


async def run(
    target: Target,
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    stdin: bytes | None = None,
    check: bool = True,
    log: LogFn | None = None,
    log_output: bool = True,
    keep_bytes: bool = False,
) -> CommandResult:
    """Run one command; every value in argv reaches the server as one quoted argument.
    With `keep_bytes`, stdout stays bytes in `raw_stdout` (images, archives)."""
    result = await on_pool(
        pool().run(
            target,
            tuple(argv),
            timeout,
            stdin,
            log,
            log_output,
            failure_is_error=check,
            keep_bytes=keep_bytes,
        )
    )
    if check and not result.ok:
        raise CommandFailed(target, result)
    return result


async def stream(
    target: Target,
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    stdin: bytes | None = None,
    terminal: bool = True,
) -> AsyncGenerator[tuple[str, str], None]:
    """Yield (stream name, line) as the command prints them; closing the iterator closes the
    channel on the server. Raises CommandFailed at the end on a non-zero exit."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, str] | BaseException | None] = asyncio.Queue()

    def deliver(item: tuple[str, str] | BaseException | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    future = pool_loop().submit(
        pool().stream(target, tuple(argv), timeout, deliver, stdin, terminal)
    )
    try:
        while True:
            item = await queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        future.cancel()


async def pipe(
    source: Target | None,
    source_argv: Sequence[str],
    target: Target,
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    local_env: dict[str, str] | None = None,
    log: LogFn | None = None,
    on_line: Callable[[str], None] | None = None,
) -> CommandResult:
    """Stream `source_argv`'s output on `source` (or on this machine, when None) into `argv`
    on `target` without holding it: `docker save` → `docker load`, `git archive` → `docker
    build -`. Raises CommandFailed when either side fails."""
    if log:
        where = source.name if source else "panel"
        log(f"[{where}] {shlex.join(source_argv)}", LogKind.COMMAND)
        log(f"[{target.name}] {shlex.join(argv)}", LogKind.COMMAND)
    result = await on_pool(
        pool().pipe(source, tuple(source_argv), target, tuple(argv), timeout, local_env, on_line)
    )
    if log:
        log(f"[{target.name}] exit {result.exit_status} ({result.seconds:.2f}s)", LogKind.INFO)
    if not result.ok:
        raise CommandFailed(target, result)
    return result


async def put(target: Target, path: str, data: bytes, mode: int = 0o600) -> None:
    """Write a file over SFTP with the mode set before any byte is written."""
    await on_pool(pool().put(target, path, data, mode))


async def home_dir(target: Target) -> str:
    return await on_pool(pool().home_dir(target))


async def http(
    target: Target,
    address: str,
    port: int,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> HttpResponse:
    """One HTTP/1.1 request to address:port as seen from the server (a direct-tcpip tunnel);
    used for health checks and the proxy's admin API, so nothing needs curl on the host."""
    return await on_pool(
        pool().http(target, address, port, method, path, body, headers or {}, timeout)
    )


async def unix_get(
    target: Target, socket_path: str, paths: Sequence[str], *, timeout: float = 10.0
) -> list[HttpResponse]:
    """GET requests sent together to a unix socket on the server (Docker's API) through the
    pooled connection; their answers in order. Nothing starts on the server."""
    return await on_pool(pool().unix_get(target, socket_path, tuple(paths), timeout))


async def accepts(target: Target, address: str, port: int) -> bool:
    """Whether address:port, as seen from the server, accepts a TCP connection."""
    return await on_pool(pool().accepts(target, address, port))


@asynccontextmanager
async def tunnel(target: Target, address: str, port: int) -> AsyncIterator[int]:
    """Forward a local loopback port to address:port as seen from the server."""
    listener = await on_pool(pool().forward(target, address, port))
    try:
        yield int(listener.get_port())
    finally:
        await on_pool(close_listener(listener))


async def fetch_host_key(host: str, port: int, timeout: float = CONNECT_TIMEOUT) -> str:
    """The host key a server presents, as `type base64`, for the user to confirm."""
    return await on_pool(fetch_key(host, port, timeout))


def run_on_pool(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on the pool's own loop and wait for it, from code that is not async:
    the executor calls it makes need no hand-over between threads (a round of many servers)."""
    return pool_loop().submit(coroutine).result()


async def close_all() -> None:
    await on_pool(pool().close_all())


async def forget(target: Target) -> None:
    """Drop the pooled connection to the server (it is going down): the next call connects
    afresh instead of waiting for the old connection's keepalives to give up."""
    await on_pool(pool().forget(target))


def run_sync(coroutine: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT) -> T:
    """For sync code (views): run a coroutine of this module on the pool's loop."""
    return pool_loop().submit(coroutine).result(timeout)
