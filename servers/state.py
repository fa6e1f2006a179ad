"""Server state that jobs record: facts from a check, reachability, a changed host key."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from panel import audit
from panel.audit import Actor
from panel.models import AuditAction
from servers import keys, ssh
from servers.models import HostKeyState, Server


def record_mismatch(mismatch: ssh.HostKeyMismatch) -> None:
    """Any job that met a changed host key: the server is marked, nothing runs there after."""
    if mismatch.server_id is not None:
        record_host_key_change(mismatch.server_id, mismatch.offered_key)


def record_host_key_change(server_id: int, offered_key: str | None) -> None:
    """A connection met a different key: stop trusting the server until an admin decides."""
    with transaction.atomic():
        server = Server.objects.select_for_update().get(pk=server_id)
        if server.host_key_state == HostKeyState.CHANGED:
            return
        server.host_key_state = HostKeyState.CHANGED
        server.offered_host_key = offered_key or ""
        server.offered_host_key_fingerprint = keys.fingerprint(offered_key) if offered_key else ""
        server.reachable = False
        server.last_error = "The host key changed. No command runs until an admin re-trusts it."
        server.save()
        audit.record(
            Actor.system("ssh"),
            AuditAction.SERVER_HOST_KEY_CHANGED,
            team=server.team,
            target=server,
            details={
                "trusted": server.host_key_fingerprint,
                "offered": server.offered_host_key_fingerprint,
            },
        )


def record_facts(server_id: int, facts: dict[str, Any]) -> None:
    Server.objects.filter(pk=server_id).update(
        reachable=True,
        last_checked_at=timezone.now(),
        last_error="",
        docker_version=str(facts.get("docker_server", ""))[:64],
        proxy_running=facts.get("proxy") == "true",
        facts=facts,
    )


def record_unreachable(server_id: int, error: str) -> None:
    Server.objects.filter(pk=server_id).update(
        reachable=False, last_checked_at=timezone.now(), last_error=error[:2000]
    )
