"""Bootstrap's decisions where the lab cannot go (a host without Docker): the executor is
replaced by a recorder, so these are unit tests of the orchestration only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from panel.jobs.runner import JobFailed
from panel.sensitive import Sensitive
from servers import ssh
from servers.commands import proxy
from servers.operations.bootstrap import Bootstrap

TARGET = ssh.Target(
    name="fresh",
    host="10.9.9.9",
    port=22,
    user="deploy",
    client_key=Sensitive("key"),
    host_key="ssh-ed25519 AAAA",
)


class Recorder:
    def __init__(self, facts: str) -> None:
        self.facts, self.closed = facts, False
        self.argvs: list[list[str]] = []
        self.docker_installed = False

    async def run(self, target: ssh.Target, argv: list[str], **options: Any) -> ssh.CommandResult:
        self.argvs.append(list(argv))
        stdout, status = "", 0
        if argv[:2] == ["sh", "-c"] and "os_id=" in argv[2]:
            docker = "docker_server=24.0.7" if self.docker_installed else "docker_server="
            stdout = self.facts + f"\n{docker}\n"
        elif "docker.io" in " ".join(argv):
            self.docker_installed = True
        elif argv[:3] in (["docker", "network", "inspect"], ["docker", "container", "inspect"]):
            status = 1
        result = ssh.CommandResult(tuple(argv), status, stdout, "", 0.01)
        if options.get("check", True) and status:
            raise ssh.CommandFailed(target, result)
        return result

    async def home_dir(self, target: ssh.Target) -> str:
        return "/home/deploy"

    async def put(self, *args: Any) -> None:
        return None

    async def http(self, *args: Any, **kw: Any) -> ssh.HttpResponse:
        return ssh.HttpResponse(200, {}, b"{}")

    async def close_all(self) -> None:
        self.closed = True


class Log:
    def log(self, text: str, kind: str = "info") -> None:
        pass

    def check_cancelled(self) -> None:
        pass


def _bootstrap(monkeypatch: pytest.MonkeyPatch, facts: str) -> Recorder:
    recorder = Recorder(facts)
    for name in ("run", "home_dir", "put", "http", "close_all"):
        monkeypatch.setattr(ssh, name, getattr(recorder, name))
    asyncio.run(Bootstrap(Log(), TARGET, None, "caddy:2").run())  # type: ignore[arg-type]
    return recorder


def test_a_debian_host_without_docker_gets_it_with_sudo_and_the_docker_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = _bootstrap(monkeypatch, "os=Debian 12\nos_id=debian\nuid=1000\ndocker_cli=no")
    install = next(a for a in recorder.argvs if "docker.io" in " ".join(a))
    assert install[:3] == ["sudo", "-n", "--"]
    assert ["sudo", "-n", "--", "usermod", "--append", "--groups", "docker", "--", "deploy"] in (
        recorder.argvs
    )
    assert recorder.closed, "a new login is needed to pick up the docker group"
    assert ["docker", "network", "create", "--driver", "bridge", "panel"] in recorder.argvs
    assert proxy.create("caddy:2", "/home/deploy/.panel/proxy/caddy.json", proxy.NEXT) in (
        recorder.argvs
    )
    assert recorder.argvs.index(proxy.rename(proxy.NEXT, proxy.CONTAINER)) < (
        recorder.argvs.index(proxy.start())
    )


def test_root_on_ubuntu_installs_without_sudo(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = _bootstrap(monkeypatch, "os=Ubuntu 24.04\nos_id=ubuntu\nos_like=debian\nuid=0")
    install = next(a for a in recorder.argvs if "docker.io" in " ".join(a))
    assert install[0] == "sh" and not any(a[0] == "usermod" for a in recorder.argvs)


def test_an_unsupported_system_gets_a_clear_error_and_nothing_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(JobFailed, match="not Debian or Ubuntu"):
        _bootstrap(monkeypatch, "os=Alpine Linux\nos_id=alpine\nuid=0")
