"""The executor's pipe: one server's output into another's input, streamed, on the lab."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from servers import ssh
from tests.lab.lab import Lab
from tests.servers.lab_targets import target_for

pytestmark = pytest.mark.lab

MAKE_BYTES = ["sh", "-c", "head -c 20000000 /dev/urandom > /tmp/pipe-src && cat /tmp/pipe-src"]
SUM = ["sha256sum"]


def test_bytes_cross_from_one_server_to_another_unchanged(lab: Lab) -> None:
    source, target = target_for(lab.hosts[0]), target_for(lab.hosts[1])
    result = asyncio.run(ssh.pipe(source, MAKE_BYTES, target, SUM, timeout=60))
    original = asyncio.run(ssh.run(source, ["sha256sum", "/tmp/pipe-src"])).stdout.split()[0]
    assert result.stdout.split()[0] == original


def test_the_panel_itself_can_be_the_source(lab: Lab) -> None:
    target = target_for(lab.hosts[0])
    data = b"x" * 3_000_001
    result = asyncio.run(
        ssh.pipe(None, ["head", "-c", str(len(data)), "/dev/zero"], target, SUM, timeout=60)
    )
    assert result.stdout.split()[0] == hashlib.sha256(b"\0" * len(data)).hexdigest()


def test_a_failing_source_fails_the_pipe_with_its_words(lab: Lab) -> None:
    source, target = target_for(lab.hosts[0]), target_for(lab.hosts[1])
    failing = ["sh", "-c", "echo half; echo 'no such image' >&2; exit 4"]
    with pytest.raises(ssh.CommandFailed) as failure:
        asyncio.run(ssh.pipe(source, failing, target, ["cat"], timeout=30))
    assert "no such image" in str(failure.value) and lab.hosts[0].name in str(failure.value)


def test_a_failing_receiver_fails_the_pipe_even_while_the_source_writes(lab: Lab) -> None:
    source, target = target_for(lab.hosts[0]), target_for(lab.hosts[1])
    refusing = ["sh", "-c", "echo 'cannot load' >&2; exit 5"]
    with pytest.raises(ssh.CommandFailed) as failure:
        asyncio.run(ssh.pipe(source, MAKE_BYTES, target, refusing, timeout=60))
    assert failure.value.result.exit_status == 5 and "cannot load" in str(failure.value)
    assert asyncio.run(ssh.run(target, ["echo", "still usable"])).stdout.strip() == "still usable"
