"""What the executor speaks: the server it reaches, what a command returned, and the errors
it raises, each a sentence to show the user."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from panel.sensitive import Sensitive

LogFn = Callable[[str, str], None]


@dataclass(frozen=True)
class Target:
    """Everything needed to reach one server; built from a Server row by the services."""

    name: str
    host: str
    port: int
    user: str
    client_key: Sensitive[str] = field(repr=False)
    host_key: str

    def pool_key(self) -> str:
        material = "|".join(
            [
                self.name,
                self.host,
                str(self.port),
                self.user,
                self.host_key,
                self.client_key.reveal(),
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    exit_status: int
    stdout: str
    stderr: str
    seconds: float
    raw_stdout: bytes = field(default=b"", repr=False)

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class SshError(Exception):
    """A failure to show the user as is: it names the server and what went wrong."""


class HostKeyMismatch(SshError):
    def __init__(self, target: Target, offered_key: str | None) -> None:
        self.offered_key = offered_key
        super().__init__(
            f"{target.name}: the host key changed (it no longer matches the confirmed key); "
            "no command was run."
        )


class ConnectFailed(SshError):
    pass


class ConnectionDropped(SshError):
    pass


class CommandTimeout(SshError):
    pass


class CommandFailed(SshError):
    def __init__(self, target: Target, result: CommandResult) -> None:
        self.result = result
        last = (result.stderr or result.stdout).strip().splitlines()[-5:]
        detail = (": " + " / ".join(last)) if last else ""
        super().__init__(
            f"{target.name}: `{shlex.join(result.argv)}` exited {result.exit_status}{detail}"
        )
