"""Docker's own account of a server's disk (`GET /system/df`: images, containers, volumes,
build cache, in bytes), asked through its API over the pooled connection."""

from __future__ import annotations

import json
from typing import Any

from servers import ssh
from servers.commands import docker
from servers.docker_values import socket_path

DF_TIMEOUT = 120.0  # Docker adds up every volume's size


async def read_df(target: ssh.Target) -> dict[str, Any]:
    """Raises ssh.SshError with a reason a person can act on."""
    said = await ssh.run(target, docker.docker_host(), timeout=30)
    socket = socket_path(said.stdout.strip())
    if not socket:
        raise ssh.SshError(f"{target.name}: Docker listens on {said.stdout.strip()!r}, not a "
                           "unix socket the panel can reach through SSH.")  # fmt: skip
    try:
        (answer,) = await ssh.unix_get(target, socket, ["/system/df"], timeout=DF_TIMEOUT)
    except ssh.ConnectFailed as error:
        raise ssh.SshError(f"{error} The server's sshd must allow socket forwarding "
                           "(AllowStreamLocalForwarding, on by default).") from error  # fmt: skip
    if answer.status != 200:
        raise ssh.SshError(f"{target.name}: Docker answered {answer.status} for its disk usage.")
    found = json.loads(answer.body)
    if not isinstance(found, dict):
        raise ssh.SshError(f"{target.name}: Docker's disk usage is not what it should be.")
    return found
