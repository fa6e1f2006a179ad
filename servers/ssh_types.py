"""What the executor speaks: the server it reaches, what a command returned, and the errors
it raises, each a sentence to show the user."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from panel.errors import PanelError
from panel.log_kinds import LogKind
from panel.sensitive import Sensitive

LogFn = Callable[[str, LogKind], None]


@dataclass(frozen=True)
class Target:
    """Everything needed to reach one server; built from a Server row by the services."""

    name: str
    host: str
    port: int
    user: str
    client_key: Sensitive[str] = field(repr=False)
    host_key: str
    server_id: int | None = None

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


class SshError(PanelError):
    """A failure to show the user as is: it names the server and what went wrong."""


class HostKeyMismatch(SshError):
    def __init__(self, target: Target, offered_key: str | None) -> None:
        self.offered_key, self.server_id = offered_key, target.server_id
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
    def __init__(self, target: Target, result: CommandResult, where: str = "") -> None:
        self.result = result
        last = (result.stderr or result.stdout).strip().splitlines()[-5:]
        detail = (": " + " / ".join(last)) if last else ""
        super().__init__(
            f"{where or target.name}: `{shlex.join(result.argv)}` exited "
            f"{result.exit_status}{detail}"
        )
