"""Every write to servers and keys, audited; and the starting of server jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from panel import audit
from panel.audit import Actor
from panel.jobs import services as jobs
from panel.models import AuditAction, Job, JobKind, Team
from servers import keys, ssh
from servers.models import HostKeyState, Server, SshKey
from servers.tasks import (
    bootstrap_server,
    check_server,
    check_server_updates,
    exec_on_servers,
    harden_server_ssh,
)

HOST_KEY_FETCH_TIMEOUT = 8.0


# Keys ------------------------------------------------------------------------------------


def generate_key(actor: Actor, team: Team, name: str) -> SshKey:
    return _save_key(actor, team, name, keys.generate(), AuditAction.SSH_KEY_GENERATE)


def import_key(actor: Actor, team: Team, name: str, text: str, passphrase: str = "") -> SshKey:
    return _save_key(
        actor, team, name, keys.import_private(text, passphrase), AuditAction.SSH_KEY_IMPORT
    )


def delete_key(actor: Actor, key: SshKey) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            AuditAction.SSH_KEY_DELETE,
            team=key.team,
            target=key,
            details={"fingerprint": key.fingerprint},
        )
        key.delete()


def _save_key(
    actor: Actor, team: Team, name: str, pair: keys.KeyPair, action: AuditAction
) -> SshKey:
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
) -> tuple[Server, HostKeyOutcome]:
    """Save the server, then read its host key for the user to confirm. Returns a sentence
    saying what happened with the key."""
    with transaction.atomic():
        server = Server.objects.create(team=team, **fields)
        audit.record(actor, AuditAction.SERVER_CREATE, team=team, target=server, details=fields)
    return server, fetch_host_key(actor, server, expected_fingerprint)


def update_server(actor: Actor, server: Server, fields: dict[str, Any]) -> Server:
    changed = {k: v for k, v in fields.items() if getattr(server, k) != v}
    if not changed:
        return server
    moved = {"host", "port"} & changed.keys()
    before = audit.values_of(server, changed)
    with transaction.atomic():
        for name, value in changed.items():
            setattr(server, name, value)
        if moved:
            # Another address may be another machine: its key must be confirmed again.
            _forget_host_key(server)
        server.save()
        audit.record(
            actor,
            AuditAction.SERVER_UPDATE,
            team=server.team,
            target=server,
            details={**changed, **audit.diff(before, changed)},
        )
    return server


def delete_server(actor: Actor, server: Server) -> None:
    with transaction.atomic():
        audit.record(
            actor,
            AuditAction.SERVER_DELETE,
            team=server.team,
            target=server,
            details={"host": server.host},
        )
        server.delete()


@dataclass(frozen=True)
class HostKeyOutcome:
    """What reading a host key found: a sentence, and whether it needs a warning."""

    message: str
    warning: bool = False


def fetch_host_key(actor: Actor, server: Server, expected_fingerprint: str = "") -> HostKeyOutcome:
    """Read the key the host presents now and keep it as offered (not trusted). With a
    fingerprint the user gave: trusted if it matches; a warning and an audit event if not."""
    try:
        offered = ssh.run_sync(
            ssh.fetch_host_key(server.host, server.port, HOST_KEY_FETCH_TIMEOUT),
            timeout=HOST_KEY_FETCH_TIMEOUT + 2,
        )
    except (ssh.SshError, TimeoutError) as error:
        Server.objects.filter(pk=server.pk).update(last_error=str(error))
        return HostKeyOutcome(f"Could not read the host key: {error} Try “Fetch host key” again.")
    fingerprint = keys.fingerprint(offered)
    server.offered_host_key, server.offered_host_key_fingerprint = offered, fingerprint
    server.save(update_fields=["offered_host_key", "offered_host_key_fingerprint"])
    if not expected_fingerprint:
        return HostKeyOutcome(
            f"The host presented {fingerprint}. Compare it with the server's, then confirm."
        )
    if keys.same_fingerprint(expected_fingerprint, fingerprint):
        trust_host_key(actor, server, fingerprint)
        return HostKeyOutcome(
            f"The host key {fingerprint} matches the fingerprint you gave; it is trusted."
        )
    with transaction.atomic():
        server.expected_host_key_fingerprint = expected_fingerprint
        server.save(update_fields=["expected_host_key_fingerprint"])
        audit.record(
            actor,
            AuditAction.SERVER_HOST_KEY_MISMATCH,
            team=server.team,
            target=server,
            details={"given": expected_fingerprint, "presented": fingerprint},
        )
    return HostKeyOutcome(
        f"The host presented {fingerprint}, which is not the fingerprint you gave. Nothing is "
        "trusted: check the server before you decide.",
        warning=True,
    )


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
        server.expected_host_key_fingerprint = ""
        server.save()
        action = (
            AuditAction.SERVER_HOST_KEY_RETRUST
            if previous_state == HostKeyState.CHANGED
            else (AuditAction.SERVER_HOST_KEY_TRUST)
        )
        audit.record(
            actor,
            action,
            team=server.team,
            target=server,
            details={"fingerprint": server.host_key_fingerprint, "previous": previous},
        )


# Jobs ------------------------------------------------------------------------------------


def start_check(actor: Actor, server: Server) -> Job:
    return jobs.enqueue(
        kind=JobKind.SERVER_CHECK, team=server.team, actor=actor, task=check_server, target=server
    )


def start_updates_check(actor: Actor, server: Server) -> Job:
    return jobs.enqueue(kind=JobKind.SERVER_UPDATES, team=server.team, actor=actor,
                        task=check_server_updates, target=server)  # fmt: skip


def start_updates_checks(actor: Actor, team: Team) -> Job | None:
    """One job checking every server of the team whose host key is trusted, side by side."""
    trusted = Server.objects.filter(team=team, host_key_state=HostKeyState.TRUSTED)
    ids = list(trusted.order_by("name").values_list("pk", flat=True))
    if not ids:
        return None
    return jobs.enqueue(kind=JobKind.SERVER_UPDATES, team=team, actor=actor,
                        task=check_server_updates, target_label=f"{len(ids)} servers",
                        params={"servers": ids})  # fmt: skip


def start_ssh_hardening(actor: Actor, server: Server) -> Job:
    return jobs.enqueue(kind=JobKind.SERVER_HARDEN, team=server.team, actor=actor,
                        task=harden_server_ssh, target=server)  # fmt: skip


def start_bootstrap(actor: Actor, server: Server) -> Job:
    return jobs.enqueue(
        kind=JobKind.SERVER_BOOTSTRAP,
        team=server.team,
        actor=actor,
        task=bootstrap_server,
        target=server,
    )


def start_exec(actor: Actor, team: Team, servers: Sequence[Server], command: str) -> Job:
    names = ", ".join(s.name for s in servers)
    return jobs.enqueue(
        kind=JobKind.SERVER_EXEC,
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
