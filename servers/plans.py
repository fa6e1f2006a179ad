"""Plans: ordered, typed steps on servers. Pure values, built by planners and run by
`servers.execute`; the preview page renders the very plan a job then runs.

A plan is a list of phases. The lanes of a phase run side by side (one lane per server,
bounded), the steps of a lane one after another. No step holds a secret: a file's content
or a command's stdin is named, and the operation hands the values to the runner.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from servers.commands.proxy import AdminRequest


@dataclass(frozen=True)
class Host:
    """A server as a plan names it; the runner maps the id to an executor target."""

    id: int
    name: str


@dataclass(frozen=True)
class Starts:
    """The container a command creates, with its role: recorded before the command runs."""

    name: str
    role: str


@dataclass(frozen=True)
class Run:
    """Run a command; its output goes into the job log (`stream`: line by line, as it comes)."""

    host: Host
    argv: tuple[str, ...]
    title: str = ""
    stdin: str = ""  # the name of a secret the runner is given: its value goes on stdin
    timeout: float = 120.0
    check: bool = True
    stream: bool = False
    starts: Starts | None = None
    record: str = ""  # keep the command's output under this name
    unless: tuple[str, ...] = ()  # skip the step when this command succeeds
    note: str = ""  # said in the log instead of the command's own output

    def lines(self) -> list[str]:
        shown = f"$ {shlex.join(self.argv)}"
        if self.stdin:
            shown += f"   (stdin: {self.stdin})"
        skip = [f"skipped when `{shlex.join(self.unless)}` succeeds"] if self.unless else []
        return [*skip, shown]


@dataclass(frozen=True)
class Put:
    """Write a file over SFTP with its mode set before any byte (paths are from the home)."""

    host: Host
    path: str
    mode: int
    content: str  # the name of content the runner is given
    holds: tuple[str, ...] = ()  # what the preview says is in it (names, never values)
    title: str = ""

    def lines(self) -> list[str]:
        inside = ", ".join(self.holds) or "nothing"
        return [f"write {self.path} (mode {self.mode:04o}, over SFTP): {inside}"]


@dataclass(frozen=True)
class Pipe:
    """Stream one command's output into another's input, never holding it all: from another
    server (`source`), or from the panel itself (`source` None, e.g. `git archive`)."""

    source: Host | None
    source_argv: tuple[str, ...]
    host: Host
    argv: tuple[str, ...]
    title: str = ""
    timeout: float = 1800.0
    unless: tuple[str, ...] = ()
    stream: bool = False  # log the receiving command's output line by line

    def lines(self) -> list[str]:
        where = f"on {self.source.name}" if self.source else "on the panel"
        skip = [f"skipped when `{shlex.join(self.unless)}` succeeds"] if self.unless else []
        return [
            *skip,
            f"$ {shlex.join(self.source_argv)}   ({where}, streamed into:)",
            f"$ {shlex.join(self.argv)}",
        ]


@dataclass(frozen=True)
class Route:
    """An app's route on a server's proxy."""

    id: str
    domains: tuple[str, ...]
    tls: bool = False
    redirect_http: bool = True


@dataclass(frozen=True)
class PointRoute:
    """Point a route at an upstream (`name:port`), at the maintenance page (`upstream` ""), or
    take it away (`remove`). The runner reads the route first, so a switch can be undone."""

    host: Host
    route: Route
    upstream: str = ""
    remove: bool = False
    title: str = ""

    def lines(self) -> list[str]:
        domains = ", ".join(self.route.domains) or "(no domain)"
        if self.remove:
            return [f"proxy: remove the route of {domains}"]
        if not self.upstream:
            return [f"proxy: {domains} answer 503 with a maintenance page"]
        scheme = "https and http→https" if self.route.tls and self.route.redirect_http else "http"
        scheme = "https and http" if self.route.tls and not self.route.redirect_http else scheme
        return [f"proxy: {domains} ({scheme}) → {self.upstream}"]


@dataclass(frozen=True)
class WaitHealthy:
    """Wait until a container is ready: an HTTP answer 2xx from it (through the executor's
    tunnel), or for a container without `path`, running (and healthy if it has a check)."""

    host: Host
    container: str
    timeout: float
    interval: float = 1.0
    path: str = ""
    port: int = 0
    probe_timeout: float = 5.0
    title: str = ""

    def lines(self) -> list[str]:
        if self.path:
            return [
                f"health check: GET {self.path} on {self.container}:{self.port} until 2xx "
                f"(at most {self.timeout:g}s)"
            ]
        return [
            f"wait until {self.container} runs (and is healthy, if the image has a check; "
            f"at most {self.timeout:g}s)"
        ]


@dataclass(frozen=True)
class WaitFor:
    """Run a command until it succeeds (a readiness question), or with `port` and no command,
    until the container accepts TCP connections on it; at most `timeout` seconds, then the
    container's last log lines go into the job log and the step fails."""

    host: Host
    argv: tuple[str, ...]
    container: str
    timeout: float
    interval: float = 0.5
    title: str = ""
    port: int = 0

    def lines(self) -> list[str]:
        until = f"$ {shlex.join(self.argv)}" if self.argv else f"TCP port {self.port} accepts"
        return [f"until it succeeds (at most {self.timeout:g}s): {until}"]


@dataclass(frozen=True)
class ProxyCall:
    """One call to a server's proxy admin API (bootstrap's base settings)."""

    host: Host
    request: AdminRequest
    title: str = ""

    def lines(self) -> list[str]:
        return [f"proxy: {self.request.method} {self.request.path}"]


@dataclass(frozen=True)
class Pause:
    seconds: float
    title: str = ""

    def lines(self) -> list[str]:
        return [f"wait {self.seconds:g}s"]


@dataclass(frozen=True)
class Reboot:
    """Reboot the server with a command, then wait until SSH answers with a new boot id."""

    host: Host
    argv: tuple[str, ...]
    timeout: float  # for SSH to come back
    title: str = ""

    def lines(self) -> list[str]:
        return [
            f"$ {shlex.join(self.argv)}",
            f"wait until SSH answers with a new boot id (at most {self.timeout:g}s)",
        ]


Step = Run | Put | Pipe | PointRoute | WaitHealthy | WaitFor | ProxyCall | Pause | Reboot
COMMAND_STEPS = (Run, Pipe, Reboot)


@dataclass(frozen=True)
class Skip:
    """Skip a whole phase when a command succeeds on a server (e.g. the image is built)."""

    host: Host
    argv: tuple[str, ...]
    note: str

    def lines(self) -> list[str]:
        return [f"skipped when `{shlex.join(self.argv)}` succeeds on {self.host.name}"]


@dataclass(frozen=True)
class Phase:
    title: str
    lanes: tuple[tuple[Step, ...], ...]
    cleanup: tuple[Step, ...] = ()  # run after the lanes, whether they failed or not
    skip: Skip | None = None

    @property
    def steps(self) -> list[Step]:
        return [step for lane in self.lanes for step in lane] + list(self.cleanup)


@dataclass(frozen=True)
class Plan:
    phases: tuple[Phase, ...] = field(default_factory=tuple)

    def phase(self, title: str) -> Phase | None:
        return next((phase for phase in self.phases if phase.title == title), None)

    def commands(self) -> list[str]:
        """Every command line the plan runs, as the job log shows them (`[server] argv`; the
        source of a pipe first, `[panel]` when the panel itself is the source)."""
        lines = []
        for phase in self.phases:
            for step in phase.steps:
                if isinstance(step, Pipe):
                    source = step.source.name if step.source else "panel"
                    lines.append(f"[{source}] {shlex.join(step.source_argv)}")
                if isinstance(step, COMMAND_STEPS):
                    lines.append(f"[{step.host.name}] {shlex.join(step.argv)}")
        return lines


def lane(*steps: Step | None) -> tuple[Step, ...]:
    """A lane of the steps that are not None (planners leave optional steps out this way)."""
    return tuple(step for step in steps if step is not None)
