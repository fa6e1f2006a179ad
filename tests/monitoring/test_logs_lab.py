"""A log file on a lab host, followed live through the real executor: only the lines holding
the filter, a line of invalid UTF-8 and a 1 MB line passed without breaking the stream, markup
as plain text, and a line written after the start arriving as it is written."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from monitoring import commands
from servers import ssh
from servers.models import Server
from servers.targets import target_for

pytestmark = [pytest.mark.lab, pytest.mark.django_db]


def test_a_host_log_is_followed_filtered_and_survives_bad_lines(lab_servers: list[Server]) -> None:
    log = Path(f"/var/log/panel-test-{uuid.uuid4().hex[:8]}.log")  # the lab hosts share this disk
    log.write_bytes(b"keep one\ndrop this\n\xff\xfe keep bad bytes\nkeep " + b"x" * 1_000_000
                    + b"\n<b>keep markup</b>\n")  # fmt: skip
    log.chmod(0o644)
    argv = commands.host_log("", "", str(log), "keep", 10)

    async def follow() -> list[str]:
        lines: list[str] = []
        stream = ssh.stream(target_for(lab_servers[0]), argv, terminal=False)
        try:
            async for _, line in stream:
                lines.append(line)
                if len(lines) == 4:
                    with log.open("ab") as more:
                        more.write(b"drop again\nkeep later\n")
                if len(lines) == 5:
                    return lines
        finally:
            await stream.aclose()
        return lines

    try:
        lines = asyncio.run(asyncio.wait_for(follow(), 30))
    finally:
        log.unlink()
    assert lines[0] == "keep one" and "keep bad bytes" in lines[1]
    assert lines[2].startswith("keep xxx") and len(lines[2]) == 16384
    assert lines[3] == "<b>keep markup</b>" and lines[4] == "keep later"
