"""Every write to servers and keys, audited; and the starting of server jobs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from panel import audit
from panel.audit import Actor
from panel.jobs import services as jobs
from panel.models import Job, Team
from servers import keys, ssh
from servers.models import HostKeyState, Server, SshKey

HOST_KEY_FETCH_TIMEOUT = 8.0


class NotTrusted(ssh.SshError):
    pass


def target_for(server: Server) -> ssh.Target:
    """How the executor reaches a server; only with a confirmed host key."""
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
    )


def proxy_image(server: Server) -> str:
    return server.proxy_image or settings.PANEL_PROXY_IMAGE


# Keys ------------------------------------------------------------------------------------


def generate_key(actor: Actor, team: Team, name: str) -> SshKey:
    return _save_key(actor, team, name, keys.generate(), "ssh_key.generate")


def import_key(actor: Actor, team: Team, name: str, text: str, passphrase: str = "") -> SshKey:
    return _save_key(actor, team, name, keys.import_private(text, passphrase), "ssh_key.import")


def delete_key(actor: Actor, key: SshKey) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            "ssh_key.delete",
            team=key.team,
            target=key,
            details={"fingerprint": key.fingerprint},
        )
        key.delete()


def _save_key(actor: Actor, team: Team, name: str, pair: keys.KeyPair, action: str) -> SshKey:
    with transaction.atomic():
        key = SshKey.objects.create(
            team=team,
            name=name,
            public_key=pair.public_key,
            fingerprint=pair.fingerprint,
            private_key=pair.private_key,
            created_by=actor.user,
        )
        audit.record(actor, action, team=team, target=key, details={"fingerprint": key.fingerprint})
    return key


# Servers ---------------------------------------------------------------------------------


def create_server(
    actor: Actor, team: Team, fields: dict[str, Any], expected_fingerprint: str = ""
) -> tuple[Server, str]:
    """Save the server, then read its host key for the user to confirm. Returns a sentence
    saying what happened with the key."""
    with transaction.atomic():
        server = Server.objects.create(team=team, **fields)
        audit.record(actor, "server.create", team=team, target=server, details=fields)
    return server, fetch_host_key(actor, server, expected_fingerprint)


def update_server(actor: Actor, server: Server, fields: dict[str, Any]) -> Server:
    changed = {k: v for k, v in fields.items() if getattr(server, k) != v}
    if not changed:
        return server
    moved = {"host", "port"} & changed.keys()
    with transaction.atomic():
        for name, value in changed.items():
            setattr(server, name, value)
        if moved:
            # Another address may be another machine: its key must be confirmed again.
            _forget_host_key(server)
        server.save()
        audit.record(actor, "server.update", team=server.team, target=server, details=changed)
    return server


def delete_server(actor: Actor, server: Server) -> None:
    with transaction.atomic():
        audit.record(
            actor, "server.delete", team=server.team, target=server, details={"host": server.host}
        )
        server.delete()


def fetch_host_key(actor: Actor, server: Server, expected_fingerprint: str = "") -> str:
    """Read the key the host presents now and keep it as offered (not trusted)."""
    try:
        offered = ssh.run_sync(
            ssh.fetch_host_key(server.host, server.port, HOST_KEY_FETCH_TIMEOUT),
            timeout=HOST_KEY_FETCH_TIMEOUT + 2,
        )
    except (ssh.SshError, TimeoutError) as error:
        Server.objects.filter(pk=server.pk).update(last_error=str(error))
        return f"Could not read the host key: {error} Try “Fetch host key” again."
    fingerprint = keys.fingerprint(offered)
    server.offered_host_key, server.offered_host_key_fingerprint = offered, fingerprint
    server.save(update_fields=["offered_host_key", "offered_host_key_fingerprint"])
    if expected_fingerprint:
        if keys.same_fingerprint(expected_fingerprint, fingerprint):
            trust_host_key(actor, server, fingerprint)
            return f"The host key {fingerprint} matches the fingerprint you gave; it is trusted."
        return (
            f"The host presented {fingerprint}, which is not the fingerprint you gave. "
            "Nothing is trusted; check the server before confirming."
        )
    return f"The host presented {fingerprint}. Compare it with the server's, then confirm."


def trust_host_key(actor: Actor, server: Server, fingerprint: str) -> None:
    """Trust the offered key; the caller shows the fingerprint the user confirmed."""
    if not server.offered_host_key or not keys.same_fingerprint(
        fingerprint, server.offered_host_key_fingerprint
    ):
        raise ValueError("The host key changed since it was shown; fetch it and confirm again.")
    with transaction.atomic():
        previous_state, previous = server.host_key_state, server.host_key_fingerprint
        server.host_key = server.offered_host_key
        server.host_key_fingerprint = server.offered_host_key_fingerprint
        server.host_key_state = HostKeyState.TRUSTED
        server.offered_host_key = server.offered_host_key_fingerprint = ""
        server.save()
        action = (
            "server.host_key_retrust"
            if previous_state == HostKeyState.CHANGED
            else ("server.host_key_trust")
        )
        audit.record(
            actor,
            action,
            team=server.team,
            target=server,
            details={"fingerprint": server.host_key_fingerprint, "previous": previous},
        )


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
            "server.host_key_changed",
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


# Jobs ------------------------------------------------------------------------------------


def start_check(actor: Actor, server: Server) -> Job:
    from servers.tasks import check_server

    return jobs.enqueue(
        kind="server.check", team=server.team, actor=actor, task=check_server, target=server
    )


def start_bootstrap(actor: Actor, server: Server) -> Job:
    from servers.tasks import bootstrap_server

    return jobs.enqueue(
        kind="server.bootstrap", team=server.team, actor=actor, task=bootstrap_server, target=server
    )


def start_exec(actor: Actor, team: Team, servers: Sequence[Server], command: str) -> Job:
    from servers.tasks import exec_on_servers

    names = ", ".join(s.name for s in servers)
    return jobs.enqueue(
        kind="server.exec",
        team=team,
        actor=actor,
        task=exec_on_servers,
        target_label=names[:200],
        params={"servers": [s.pk for s in servers], "command": command},
    )


def _forget_host_key(server: Server) -> None:
    server.host_key_state = HostKeyState.UNCONFIRMED
    server.host_key = server.host_key_fingerprint = ""
    server.offered_host_key = server.offered_host_key_fingerprint = ""
