"""How the executor reaches a server: read from its row, only with a confirmed host key."""

from __future__ import annotations

from django.conf import settings

from servers import ssh
from servers.models import HostKeyState, Server


class NotTrusted(ssh.SshError):
    pass


def target_for(server: Server) -> ssh.Target:
    """The executor's target for a server; NotTrusted unless its host key is confirmed."""
    if not server.is_trusted:
        state = (
            "has changed" if server.host_key_state == HostKeyState.CHANGED else "is not confirmed"
        )
        raise NotTrusted(f"{server.name}: its host key {state}; no command was run.")
    return ssh.Target(
        name=server.name,
        host=server.host,
        port=server.port,
        user=server.user,
        client_key=server.ssh_key.private_key,
        host_key=server.host_key,
        server_id=server.pk,
    )


def proxy_image(server: Server) -> str:
    return server.proxy_image or settings.PANEL_PROXY_IMAGE
