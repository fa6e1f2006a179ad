"""Team SSH access of one server as a job: for every login with grants (or with a block the
panel wrote before), its `authorized_keys` read, the panel's block made to hold exactly the
granted members' keys, written back only when it changed (every line outside the block as
it was), and the keys found outside the block reported."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from django.utils import timezone

from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from panel.models import Membership
from servers import keys, ssh
from servers.access import Entry, block, inside, outside, parse_public_key, with_block
from servers.commands.access import read_keys, write_keys
from servers.models import ManagedLogin, MemberKey, Server, ServerAccess, SshKey
from servers.targets import target_for


def sync_access(ctx: JobContext) -> None:
    server = Server.objects.select_related("ssh_key").get(pk=ctx.job.target_id, team=ctx.job.team)
    wanted = granted(server)
    managed = set(ManagedLogin.objects.filter(server=server).values_list("login", flat=True))
    own_keys = {keys.public_key_line(k.public_key) for k in SshKey.objects.filter(team=server.team)}
    failed = []
    for login in sorted(set(wanted) | managed):
        try:
            _sync_login(server, login, wanted.get(login, []), own_keys, ctx)
        except ssh.SshError as error:
            ctx.log(f"[{server.name}] {login}: {error}", LogKind.ERROR)
            failed.append(login)
    if failed:
        raise JobFailed(f"The keys of {', '.join(failed)} on {server.name} were not brought "
                        "up to date (see above).")  # fmt: skip
    if not wanted and not managed:
        ctx.log(f"Nobody is granted a login on {server.name}; nothing to do.")


def granted(server: Server) -> dict[str, list[Entry]]:
    """Per login, the keys of the members granted it (members of the server's team only)."""
    members = Membership.objects.filter(team=server.team).values("user")
    grants = ServerAccess.objects.filter(server=server, user__in=members).select_related("user")
    member_keys = defaultdict(list)
    for key in MemberKey.objects.filter(user__in=[g.user_id for g in grants]):
        member_keys[key.user_id].append(key.public_key)
    wanted: dict[str, list[Entry]] = defaultdict(list)
    for grant in grants:
        wanted[grant.login] += [
            Entry(key, grant.user.username) for key in member_keys[grant.user_id]
        ]
    return wanted


def _sync_login(
    server: Server, login: str, entries: list[Entry], own_keys: set[str], ctx: JobContext
) -> None:
    target, own, label = target_for(server), login == server.user, f"[{server.name}] {login}"
    read = ssh.run(target, read_keys(login, own), timeout=30, log=ctx.log, log_output=False)
    current = asyncio.run(read).stdout
    new = with_block(current, block(entries))
    before = _fingerprints(inside(current))
    after = _fingerprints(block(entries))
    if new != current:
        write = ssh.run(target, write_keys(login, own), stdin=new.encode(), timeout=30,
                        log=ctx.log)  # fmt: skip
        asyncio.run(write)
    for fingerprint in sorted(after - before):
        ctx.log(f"{label}: added {fingerprint}")
    for fingerprint in sorted(before - after):
        ctx.log(f"{label}: removed {fingerprint}")
    if new == current:
        ctx.log(f"{label}: already as granted ({len(after)} key{'s' if len(after) != 1 else ''}).")
    drift = outside(current, own_keys)
    for found in drift:
        ctx.log(f"{label}: a key outside the panel's block: {found.fingerprint} {found.comment}",
                LogKind.ERROR)  # fmt: skip
    if entries or drift:
        ManagedLogin.objects.update_or_create(server=server, login=login, defaults={
            "fingerprints": sorted(after), "synced_at": timezone.now(),
            "outside": [{"fingerprint": d.fingerprint, "comment": d.comment} for d in drift],
        })  # fmt: skip
    else:
        ManagedLogin.objects.filter(server=server, login=login).delete()


def _fingerprints(lines: list[str]) -> set[str]:
    found = set()
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        found.add(parse_public_key(" ".join(line.split()[:2])).fingerprint)
    return found
