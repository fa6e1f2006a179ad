"""Team SSH access: people's own public keys, admins' grants of a login on a server, and the
jobs that bring each server's `authorized_keys` in line. Every write is audited; a change
starts the sync of every server it touches."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from panel import audit
from panel.audit import Actor
from panel.jobs import services as jobs
from panel.models import AuditAction, Job, JobKind, Membership, Team
from servers import keys
from servers.access import parse_public_key
from servers.models import MemberKey, Server, ServerAccess, SshKey
from servers.tasks import sync_server_access


def add_member_key(actor: Actor, user: User, name: str, text: str) -> MemberKey:
    parsed = parse_public_key(text)
    panel_keys = {keys.public_key_line(k.public_key) for k in SshKey.objects.all()}
    if parsed.line in panel_keys:
        raise ValidationError("This is a key the panel itself logs in with, not a person's.")
    if MemberKey.objects.filter(user=user, fingerprint=parsed.fingerprint).exists():
        raise ValidationError("You added this key already.")
    if MemberKey.objects.filter(user=user, name=name).exists():
        raise ValidationError(f"You have a key named {name} already.")
    with transaction.atomic():
        key = MemberKey.objects.create(user=user, name=name, public_key=parsed.line,
                                       fingerprint=parsed.fingerprint)  # fmt: skip
        audit.record_for_person(actor, user, AuditAction.MEMBER_KEY_ADD, _described(key))
        _sync_where_granted(actor, user)
    return key


def remove_member_key(actor: Actor, key: MemberKey) -> None:
    with transaction.atomic():
        audit.record_for_person(actor, key.user, AuditAction.MEMBER_KEY_REMOVE, _described(key))
        key.delete()
        _sync_where_granted(actor, key.user)


def grant(actor: Actor, server: Server, user: User, login: str) -> ServerAccess:
    if not Membership.objects.filter(team=server.team, user=user).exists():
        raise ValidationError(f"{user.username} is not a member of {server.team.name}.")
    if ServerAccess.objects.filter(server=server, user=user, login=login).exists():
        raise ValidationError(f"{user.username} may log in as {login} already.")
    with transaction.atomic():
        access = ServerAccess.objects.create(team=server.team, server=server, user=user,
                                             login=login, granted_by=actor.user)  # fmt: skip
        audit.record(actor, AuditAction.ACCESS_GRANT, team=server.team, target=server,
                     details={"member": user.username, "login": login})  # fmt: skip
        start_sync(actor, server)
    return access


def revoke(actor: Actor, access: ServerAccess) -> None:
    with transaction.atomic():
        audit.record(actor, AuditAction.ACCESS_REVOKE, team=access.team, target=access.server,
                     details={"member": access.user.username, "login": access.login})  # fmt: skip
        access.delete()
        start_sync(actor, access.server)


def start_sync(actor: Actor, server: Server) -> Job:
    return jobs.enqueue(kind=JobKind.SERVER_ACCESS, team=server.team, actor=actor,
                        task=sync_server_access, target=server)  # fmt: skip


def member_left(actor: Actor, team: Team, user: User, **_: Any) -> None:
    """A member left the team: their grants on its servers end and their keys go."""
    grants = ServerAccess.objects.filter(team=team, user=user).select_related("server")
    servers = {access.server_id: access.server for access in grants}
    for access in grants:
        audit.record(actor, AuditAction.ACCESS_REVOKE, team=team, target=access.server,
                     details={"member": user.username, "login": access.login,
                              "why": "left the team"})  # fmt: skip
    grants.delete()
    for server in servers.values():
        start_sync(actor, server)


def _sync_where_granted(actor: Actor, user: User) -> None:
    servers = Server.objects.filter(access__user=user).select_related("team").distinct()
    for server in servers:
        start_sync(actor, server)


def _described(key: MemberKey) -> dict[str, str]:
    return {"key": key.name, "fingerprint": key.fingerprint}
