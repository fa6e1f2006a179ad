"""The executor's insides: one asyncssh connection per server, on one event loop in a
background thread of each process, with a bounded number of channels per connection."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shlex
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import asyncssh

from panel.log_kinds import LogKind
from servers import tunnel_http
from servers.ssh_types import (
    CommandFailed,
    CommandResult,
    CommandTimeout,
    ConnectFailed,
    ConnectionDropped,
    HostKeyMismatch,
    LogFn,
    SshError,
    Target,
)
from servers.tunnel_http import HttpResponse

T = TypeVar("T")

CONNECT_TIMEOUT = 10.0
MAX_CHANNELS = 8  # below OpenSSH's MaxSessions (10), leaving room for a tunnel or two
KEEPALIVE_SECONDS = 15
SESSION_RETRIES = 8
# AES-GCM first: OpenSSL runs it with the CPU's AES instructions, where asyncssh's
# ChaCha20-Poly1305 (its default first choice) spends far more Python per packet.
CIPHERS = [
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
]


class _PoolLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ssh-pool", daemon=True)
        self.thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)


_loop_lock = threading.Lock()
_loop: _PoolLoop | None = None
_pool_instance: _Pool | None = None


def pool_loop() -> _PoolLoop:
    global _loop, _pool_instance
    with _loop_lock:
        if _loop is None:
            _loop = _PoolLoop()
            _pool_instance = _Pool()
        return _loop


def pool() -> _Pool:
    pool_loop()
    assert _pool_instance is not None
    return _pool_instance


def reset_after_fork() -> None:
    """A forked worker must not share its parent's loop thread or connections."""
    global _loop, _pool_instance
    _loop = None
    _pool_instance = None


async def on_pool(coroutine: Coroutine[Any, Any, T]) -> T:
    loop = pool_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop.loop:
        return await coroutine
    return await asyncio.wrap_future(loop.submit(coroutine))


class _Connection:
    def __init__(self, conn: asyncssh.SSHClientConnection) -> None:
        self.conn = conn
        self.channels = asyncio.Semaphore(MAX_CHANNELS)
        self.sftp: asyncssh.SFTPClient | None = None
        self.home: str | None = None

    @property
    def closed(self) -> bool:
        return self.conn.is_closed()


_CHANNEL_ERRORS = (asyncssh.ChannelOpenError, asyncssh.ConnectionLost, BrokenPipeError, OSError)


class _Pool:
    """Lives on the pool loop only."""

    def __init__(self) -> None:
        self.connections: dict[str, _Connection] = {}
        self.connecting: dict[str, asyncio.Lock] = {}

    async def connection(self, target: Target) -> _Connection:
        key = target.pool_key()
        lock = self.connecting.setdefault(key, asyncio.Lock())
        async with lock:
            existing = self.connections.get(key)
            if existing is not None and not existing.closed:
                return existing
            connection = _Connection(await _connect(target))
            self.connections[key] = connection
            return connection

    def discard(self, target: Target, connection: _Connection) -> None:
        key = target.pool_key()
        if self.connections.get(key) is connection:
            del self.connections[key]
        connection.conn.abort()

    async def with_channel(self, target: Target, use: Callable[[_Connection], Awaitable[T]]) -> T:
        """Run `use` on a channel of the pooled connection. Before any side effect, a dead
        connection is replaced once, and a session the server refused for now (its
        MaxSessions counts channels that are still closing) is asked for again."""
        reconnected, refusals = False, 0
        while True:
            connection = await self.connection(target)
            async with connection.channels:
                try:
                    return await use(connection)
                except _ChannelNotOpened as not_opened:
                    if connection.closed:
                        self.discard(target, connection)
                        if reconnected:
                            raise ConnectionDropped(
                                f"{target.name}: the connection dropped and a reconnect "
                                f"failed ({not_opened.__cause__})."
                            ) from not_opened
                        reconnected = True
                        continue
                    refusals += 1
                    if refusals > SESSION_RETRIES:
                        raise ConnectFailed(
                            f"{target.name}: the server keeps refusing new sessions "
                            f"({not_opened.__cause__})."
                        ) from not_opened
            await asyncio.sleep(0.05 * refusals)

    async def run(
        self,
        target: Target,
        argv: tuple[str, ...],
        timeout: float,
        stdin: bytes | None,
        log: LogFn | None,
        log_output: bool,
        failure_is_error: bool = True,
        keep_bytes: bool = False,
    ) -> CommandResult:
        command = shlex.join(argv)
        started = time.monotonic()

        async def use(connection: _Connection) -> CommandResult:
            process = await _open_process(connection, command, target)
            if log:  # only once the channel is open: the log shows what really ran
                log(f"[{target.name}] {command}", LogKind.COMMAND)
            try:
                stdout, stderr = await asyncio.wait_for(process.communicate(stdin), timeout=timeout)
            except TimeoutError as error:
                process.kill()
                process.close()
                raise CommandTimeout(
                    f"{target.name}: `{command}` did not finish within {timeout:.0f}s."
                ) from error
            except (asyncssh.ConnectionLost, asyncssh.DisconnectError, OSError) as error:
                self.discard(target, connection)
                raise ConnectionDropped(
                    f"{target.name}: the connection was lost while running `{command}` "
                    f"({error}). The command may or may not have finished on the server."
                ) from error
            if process.exit_status is None and process.exit_signal is None:
                if connection.closed:
                    self.discard(target, connection)
                raise ConnectionDropped(
                    f"{target.name}: the connection was lost while running `{command}`; "
                    "the command may or may not have finished on the server."
                )
            return CommandResult(
                argv=argv,
                exit_status=process.exit_status if process.exit_status is not None else -1,
                raw_stdout=stdout if keep_bytes and isinstance(stdout, bytes) else b"",
                stdout="" if keep_bytes else _text(stdout),
                stderr=_text(stderr),
                seconds=time.monotonic() - started,
            )

        result = await self.with_channel(target, use)
        if log:
            if log_output:
                for line in (result.stdout + result.stderr).splitlines():
                    if line.strip():
                        log(f"[{target.name}] {line}", LogKind.OUTPUT)
            log(
                f"[{target.name}] exit {result.exit_status} ({result.seconds:.2f}s)",
                LogKind.INFO if result.ok or not failure_is_error else LogKind.ERROR,
            )
        return result

    async def stream(
        self,
        target: Target,
        argv: tuple[str, ...],
        timeout: float | None,
        deliver: Callable[[tuple[str, str] | BaseException | None], None],
        stdin: bytes | None = None,
        terminal: bool = True,
    ) -> None:
        command = shlex.join(argv)
        started = time.monotonic()

        async def use(connection: _Connection) -> None:
            process = await _open_process(connection, command, target, hang_up_on_close=terminal)
            if stdin is not None:
                process.stdin.write(stdin)
                process.stdin.write_eof()
            try:

                async def pump(reader: asyncssh.SSHReader[bytes], name: str) -> None:
                    async for raw in reader:
                        if raw:  # the reader yields b"" once at end of file
                            deliver((name, _text(raw).rstrip("\r\n")))

                await asyncio.wait_for(
                    asyncio.gather(pump(process.stdout, "out"), pump(process.stderr, "err")),
                    timeout=timeout,
                )
                await process.wait_closed()
            finally:
                process.close()
            status = process.exit_status if process.exit_status is not None else -1
            if status != 0:
                raise CommandFailed(
                    target, CommandResult(argv, status, "", "", time.monotonic() - started)
                )

        try:
            await self.with_channel(target, use)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            deliver(CommandTimeout(f"{target.name}: `{command}` ran past {timeout}s."))
        except (asyncssh.ConnectionLost, asyncssh.DisconnectError) as error:
            deliver(ConnectionDropped(f"{target.name}: the connection was lost ({error})."))
        except BaseException as error:
            deliver(error)
        else:
            deliver(None)

    async def pipe(
        self,
        source: Target | None,
        source_argv: tuple[str, ...],
        target: Target,
        argv: tuple[str, ...],
        timeout: float,
        local_env: dict[str, str] | None,
        on_line: Callable[[str], None] | None,
    ) -> CommandResult:
        """Copy the output of `source_argv` (on `source`, or here when it is None) into the
        input of `argv` on `target`, a chunk at a time: each write waits for the receiving
        channel's window, so memory stays bounded whatever the size."""
        command = shlex.join(argv)
        started = time.monotonic()

        async def use(connection: _Connection) -> CommandResult:
            receiver = await _open_process(connection, command, target)
            received = asyncio.ensure_future(_collect(receiver, on_line))
            try:
                async with self._source(source, source_argv, local_env) as (chunks, finished):
                    copy = asyncio.ensure_future(_copy(chunks, receiver))
                    closed = asyncio.ensure_future(receiver.wait_closed())
                    # A receiver that ends before reading everything has failed: stop feeding
                    # it, its exit status says why.
                    await asyncio.wait({copy, closed}, return_when=asyncio.FIRST_COMPLETED)
                    fed = copy.done() and not copy.cancelled() and copy.exception() is None
                    if not copy.done():
                        copy.cancel()
                    with suppress(asyncio.CancelledError, BrokenPipeError):
                        await copy
                    await closed
                    output, error_output = await received
                    # The source is only asked how it ended when all of it was fed; else it is
                    # stopped on the way out, and the receiver's failure is the one to report.
                    source_status, source_error = await finished() if fed else (0, "")
            except (asyncssh.ConnectionLost, asyncssh.DisconnectError) as error:
                self.discard(target, connection)
                raise ConnectionDropped(
                    f"{target.name}: the connection was lost while streaming into `{command}` "
                    f"({error})."
                ) from error
            finally:
                received.cancel()
                receiver.close()
            seconds = time.monotonic() - started
            status = receiver.exit_status if receiver.exit_status is not None else -1
            if source_status != 0 and status == 0:
                failed = CommandResult(source_argv, source_status, "", source_error, seconds)
                raise CommandFailed(target, failed, where=source.name if source else "the panel")
            return CommandResult(argv, status, output, error_output, seconds)

        async def bounded(connection: _Connection) -> CommandResult:
            return await asyncio.wait_for(use(connection), timeout=timeout)

        try:
            return await self.with_channel(target, bounded)
        except TimeoutError as error:
            raise CommandTimeout(f"{target.name}: `{command}` ran past {timeout:.0f}s.") from error

    @asynccontextmanager
    async def _source(
        self, source: Target | None, argv: tuple[str, ...], local_env: dict[str, str] | None
    ) -> AsyncIterator[tuple[AsyncIterator[bytes], Callable[[], Awaitable[tuple[int, str]]]]]:
        """The source's output as chunks, and a function that waits for its exit status and
        the end of its error output."""
        if source is None:
            local = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=local_env,
            )
            assert local.stdout is not None and local.stderr is not None
            errors = asyncio.ensure_future(local.stderr.read())

            async def local_finished() -> tuple[int, str]:
                return await local.wait(), _text(await errors)

            try:
                yield _chunks(local.stdout), local_finished
            finally:
                if local.returncode is None:
                    local.kill()
                    await local.wait()
            return
        connection = await self.connection(source)
        async with connection.channels:
            sender = await _open_process(connection, shlex.join(argv), source)
            sender_errors = asyncio.ensure_future(sender.stderr.read())

            async def remote_finished() -> tuple[int, str]:
                await sender.wait_closed()
                status = sender.exit_status if sender.exit_status is not None else -1
                return status, _text(await sender_errors)

            try:
                yield _chunks(sender.stdout), remote_finished
            finally:
                sender.close()

    async def put(self, target: Target, path: str, data: bytes, mode: int) -> None:
        async def use(connection: _Connection) -> None:
            sftp = await self._sftp(connection)
            attrs = asyncssh.SFTPAttrs(permissions=mode)
            flags = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC
            async with sftp.open(path, flags, attrs, encoding=None) as handle:
                await handle.write(data)
            await sftp.chmod(path, mode)

        await self.with_channel(target, use)

    async def home_dir(self, target: Target) -> str:
        async def use(connection: _Connection) -> str:
            if connection.home is None:
                connection.home = str(await (await self._sftp(connection)).realpath("."))
            return connection.home

        return await self.with_channel(target, use)

    async def _sftp(self, connection: _Connection) -> asyncssh.SFTPClient:
        if connection.sftp is None:
            try:
                connection.sftp = await connection.conn.start_sftp_client()
            except _CHANNEL_ERRORS as error:
                raise _ChannelNotOpened() from error
        return connection.sftp

    async def http(
        self,
        target: Target,
        address: str,
        port: int,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        timeout: float,
    ) -> HttpResponse:
        async def use(connection: _Connection) -> HttpResponse:
            try:
                reader, writer = await connection.conn.open_connection(address, port)
            except asyncssh.ChannelOpenError as error:
                raise ConnectFailed(
                    f"{target.name}: nothing accepts connections at {address}:{port} "
                    f"({error.reason})."
                ) from error
            request = tunnel_http.request_bytes(method, path, address, port, body, headers)
            raw = await _exchange(reader, writer, request, timeout, f"{target.name}: "
                                  f"{address}:{port}")  # fmt: skip
            try:
                return tunnel_http.parse_response(raw)
            except ValueError as error:
                raise SshError(f"{target.name}: {address}:{port} did not answer HTTP.") from error

        return await self.with_channel(target, use)

    async def unix_get(
        self, target: Target, socket_path: str, paths: tuple[str, ...], timeout: float
    ) -> list[HttpResponse]:
        async def use(connection: _Connection) -> list[HttpResponse]:
            try:
                reader, writer = await connection.conn.open_unix_connection(socket_path)
            except asyncssh.ChannelOpenError as error:
                raise ConnectFailed(
                    f"{target.name}: {socket_path} cannot be reached ({error.reason})."
                ) from error
            last = len(paths) - 1
            requests = b"".join(
                tunnel_http.request_bytes("GET", path, "localhost", 80, b"", {}, last=n == last)
                for n, path in enumerate(paths)
            )
            where = f"{target.name}: {socket_path}"
            raw = await _exchange(reader, writer, requests, timeout, where)
            try:
                return tunnel_http.split_responses(raw, len(paths))
            except ValueError as error:
                raise SshError(f"{target.name}: {socket_path} did not answer HTTP.") from error

        return await self.with_channel(target, use)

    async def accepts(self, target: Target, address: str, port: int) -> bool:
        async def use(connection: _Connection) -> bool:
            try:
                _, writer = await connection.conn.open_connection(address, port)
            except asyncssh.ChannelOpenError:
                return False
            writer.close()
            return True

        return await self.with_channel(target, use)

    async def forward(self, target: Target, address: str, port: int) -> asyncssh.SSHListener:
        connection = await self.connection(target)
        return await connection.conn.forward_local_port("127.0.0.1", 0, address, port)

    async def forget(self, target: Target) -> None:
        connection = self.connections.pop(target.pool_key(), None)
        if connection is not None:
            connection.conn.abort()

    async def close_all(self) -> None:
        for connection in list(self.connections.values()):
            connection.conn.close()
        self.connections.clear()


async def _exchange(
    reader: asyncssh.SSHReader[bytes], writer: asyncssh.SSHWriter[bytes], request: bytes,
    timeout: float, where: str,
) -> bytes:  # fmt: skip
    """Send the request bytes and read the answer until the other side closes."""
    try:
        writer.write(request)
        return await asyncio.wait_for(reader.read(), timeout=timeout)
    except TimeoutError as error:
        raise CommandTimeout(f"{where} did not answer within {timeout:.0f}s.") from error
    finally:
        writer.close()


class _ChannelNotOpened(Exception):
    pass


async def _open_process(
    connection: _Connection, command: str, target: Target, *, hang_up_on_close: bool = False
) -> asyncssh.SSHClientProcess[bytes]:
    # A terminal makes the server hang up the whole command when the channel closes;
    # without one, a quiet `docker logs -f` would linger until it next wrote a line.
    terminal = {"term_type": "dumb", "term_size": (500, 50)} if hang_up_on_close else {}
    try:
        return await connection.conn.create_process(command, encoding=None, **terminal)
    except _CHANNEL_ERRORS as error:
        raise _ChannelNotOpened() from error


async def _connect(target: Target) -> asyncssh.SSHClientConnection:
    try:
        client_key = asyncssh.import_private_key(target.client_key.reveal())
        pinned = asyncssh.import_public_key(target.host_key)
    except (asyncssh.KeyImportError, ValueError) as error:
        raise ConnectFailed(f"{target.name}: the stored key cannot be read ({error}).") from error
    try:
        return await asyncssh.connect(
            target.host,
            port=target.port,
            username=target.user,
            known_hosts=([pinned], [], []),
            client_keys=[client_key],
            config=None,
            agent_path=None,
            agent_forwarding=False,
            ignore_encrypted=True,
            password=None,
            kbdint_auth=False,
            connect_timeout=CONNECT_TIMEOUT,
            login_timeout=CONNECT_TIMEOUT,
            keepalive_interval=KEEPALIVE_SECONDS,
            keepalive_count_max=3,
            encryption_algs=CIPHERS,
        )
    except asyncssh.HostKeyNotVerifiable as error:
        offered = None
        with suppress(SshError):
            offered = await fetch_key(target.host, target.port, CONNECT_TIMEOUT)
        raise HostKeyMismatch(target, offered) from error
    except asyncssh.PermissionDenied as error:
        raise ConnectFailed(
            f"{target.name}: {target.user}@{target.host} refused the key "
            "(is the public key in authorized_keys?)."
        ) from error
    except (OSError, asyncssh.Error, TimeoutError) as error:
        reason = str(error) or type(error).__name__
        raise ConnectFailed(
            f"{target.name}: cannot connect to {target.host}:{target.port} ({reason})."
        ) from error


async def fetch_key(host: str, port: int, timeout: float) -> str:
    try:
        key = await asyncio.wait_for(
            asyncssh.get_server_host_key(host, port, config=None), timeout=timeout
        )
    except (OSError, asyncssh.Error, TimeoutError) as error:
        reason = str(error) or type(error).__name__
        raise ConnectFailed(
            f"cannot reach {host}:{port} to read its host key ({reason})."
        ) from error
    if key is None:
        raise ConnectFailed(f"{host}:{port} presented no host key.")
    algorithm, encoded = key.export_public_key().split()[:2]
    return f"{algorithm.decode()} {encoded.decode()}"


PIPE_CHUNK = 256 * 1024


async def _chunks(reader: Any) -> AsyncIterator[bytes]:
    while True:
        chunk = await reader.read(PIPE_CHUNK)
        if not chunk:
            return
        yield chunk


async def _copy(chunks: AsyncIterator[bytes], receiver: asyncssh.SSHClientProcess[bytes]) -> None:
    async for chunk in chunks:
        receiver.stdin.write(chunk)
        await receiver.stdin.drain()
    receiver.stdin.write_eof()


async def _collect(
    process: asyncssh.SSHClientProcess[bytes], on_line: Callable[[str], None] | None
) -> tuple[str, str]:
    """A receiving command's output: passed on line by line, and the last of it kept."""
    kept: dict[str, list[str]] = {"out": [], "err": []}

    async def pump(reader: asyncssh.SSHReader[bytes], name: str) -> None:
        async for raw in reader:
            if raw:
                line = _text(raw).rstrip("\r\n")
                kept[name] = [*kept[name][-49:], line]
                if on_line is not None:
                    on_line(line)

    await asyncio.gather(pump(process.stdout, "out"), pump(process.stderr, "err"))
    return "\n".join(kept["out"]), "\n".join(kept["err"])


async def close_listener(listener: asyncssh.SSHListener) -> None:
    listener.close()
    await listener.wait_closed()


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


os.register_at_fork(after_in_child=reset_after_fork)
