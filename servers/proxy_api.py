"""Calls to a server's proxy admin API, through the SSH tunnel to the host's loopback."""

from __future__ import annotations

from servers import ssh
from servers.commands.proxy import ADMIN_PORT, AdminRequest


async def admin(target: ssh.Target, request: AdminRequest) -> ssh.HttpResponse:
    headers = {"Content-Type": "application/json"} if request.body else {}
    return await ssh.http(
        target,
        "127.0.0.1",
        ADMIN_PORT,
        request.method,
        request.path,
        body=request.body,
        headers=headers,
    )
