"""Proof that backups restore: the repository checked by restic, then a backup restored into a
throwaway copy and its rows per table compared with those counted when it was made; the copy is
removed whatever happens. A repository can also be checked alone."""

from __future__ import annotations

import asyncio

from backups import commands, state
from backups.models import Backup, Policy, Repository
from backups.operations.backup import Restic, list_snapshots, words_of
from backups.operations.restore import (
    THROWAWAY,
    copy_name,
    remove_copy,
    restic_for,
    restore_copy,
)
from deployments.commands import accessories
from deployments.models import Accessory
from deployments.operations.accessories import kind_of
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh
from servers.models import Server
from servers.targets import target_for

CHECK_TIMEOUT = 6 * 3600.0


def verify(ctx: JobContext) -> None:
    accessory = Accessory.objects.select_related("team", "server__ssh_key").get(
        pk=ctx.job.target_id
    )
    backup = _latest(accessory, ctx.job.params.get("policy_id"))
    actor = Actor.of_job(ctx.job)
    if backup is None:
        state.verified(actor, accessory, None, ctx.job, passed=False, detail="no backup yet")
        raise JobFailed(f"{accessory.name} has no backup that succeeded: nothing to verify.")
    ctx.log(f"Verifying snapshot {backup.snapshot_id[:8]} in {backup.repository.name}")
    try:
        restic = restic_for(ctx, backup)
        check(ctx, restic)
        if kind_of(accessory).dump:
            summary = restore_copy(
                ctx, restic, accessory, backup, THROWAWAY, f"panel_restore_{ctx.job.pk}"
            )
            checked = _own_check(ctx, accessory, ctx.job.params.get("policy_id"))
        else:
            summary, checked = _files_restored(ctx, restic, backup), []
    except Exception as error:
        state.verified(actor, accessory, backup, ctx.job, passed=False, detail=str(error))
        raise
    finally:
        remove_copy(ctx, accessory, THROWAWAY)
    differences = compared(backup.rows, summary) + checked
    tables = len(summary.splitlines())
    counted = (
        f"{tables} table{'s' if tables != 1 else ''}, rows as counted"
        if kind_of(accessory).dump
        else "every byte checked, files as counted"
    )
    detail = "\n".join(differences) or (
        f"restored, {counted} when it was made"
        if backup.rows
        else "restored without an error (rows changed while it was made: none to compare)"
    )
    state.verified(actor, accessory, backup, ctx.job, passed=not differences, detail=detail)
    if differences:
        raise JobFailed(f"Snapshot {backup.snapshot_id[:8]} restores other rows: {detail}")
    ctx.log(f"Verified: snapshot {backup.snapshot_id[:8]} {detail}.")


def _own_check(ctx: JobContext, accessory: Accessory, policy_id: int | None) -> list[str]:
    """The policy's own query, asked of the restored copy: [] when it prints what it must (or
    there is none), else what differs."""
    policies = Policy.objects.filter(accessory=accessory).exclude(check_query="")
    policy = policies.filter(pk=policy_id or 0).first() or policies.first()
    if policy is None:
        return []
    name, kind = copy_name(accessory, THROWAWAY), kind_of(accessory)
    env_names = sorted(name for name, _ in (kind.scratch_env or kind.env))
    asked = accessories.ask(name, env_names, [*kind.query, policy.check_database], stdin=True)
    answered = asyncio.run(ssh.run(target_for(accessory.server), asked, check=False,
                                   stdin=policy.check_query.encode()))  # fmt: skip
    said = answered.stdout.strip()
    if not answered.ok:
        return [f"the check query failed: {words_of(answered.stderr)}"]
    if said != policy.check_expected.strip():
        return [f"the check query printed {said[:200]!r}, not {policy.check_expected[:200]!r}"]
    ctx.log(f"The check query printed what it must ({said[:80]!r}).")
    return []


def refresh_snapshots(ctx: JobContext) -> None:
    """Its snapshots listed again, whichever tool made them."""
    list_snapshots(ctx, _prepared(ctx))


def check_repository(ctx: JobContext) -> None:
    """Its snapshots listed, then restic's check reading every byte."""
    restic = _prepared(ctx)
    repository = restic.repository
    try:
        list_snapshots(ctx, restic)
    except JobFailed as failure:
        ctx.log(str(failure), LogKind.ERROR)
    try:
        check(ctx, restic, read_data=True)
    except JobFailed as failure:
        state.checked(Actor.of_job(ctx.job), repository, ctx.job, error=str(failure))
        raise
    state.checked(Actor.of_job(ctx.job), repository, ctx.job)


def _prepared(ctx: JobContext) -> Restic:
    """restic for the job's repository on the job's server, its settings written there."""
    repository = Repository.objects.select_related("team").get(pk=ctx.job.target_id)
    server = Server.objects.select_related("ssh_key").get(
        pk=ctx.job.params["server_id"], team=repository.team
    )
    if locks.acquire(repository.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{repository.name} is busy with another job; try again later.")
    restic = Restic(repository, server)
    for secret in restic.secrets:
        ctx.add_secret(secret)
    restic.prepare(ctx)
    return restic


def _files_restored(ctx: JobContext, restic: Restic, backup: Backup) -> str:
    """A files snapshot restored inside restic's throwaway container; its files counted."""
    ctx.log(f"Restoring snapshot {backup.snapshot_id[:8]} into a throwaway container")
    argv = restic.argv(["-c", commands.RESTORE_AND_COUNT, backup.snapshot_id], entrypoint="sh")
    done = restic.run_argv(argv, CHECK_TIMEOUT)
    if not done.ok:
        raise JobFailed(f"The restore of {backup.snapshot_id[:8]} failed: {words_of(done.stderr)}")
    return f"{commands.FILES_INSIDE} {done.stdout.strip()}"


def check(ctx: JobContext, restic: Restic, *, read_data: bool = False) -> None:
    """restic's own check of the repository's structure, and of every byte of its data when
    asked (a stale lock removed first)."""
    restic.unlock_stale(ctx)
    checked = restic.run(["check", *(["--read-data"] if read_data else [])], timeout=CHECK_TIMEOUT)
    if not checked.ok:
        said = words_of("\n".join((checked.stdout, checked.stderr)))
        raise JobFailed(f"restic finds {restic.repository.name} damaged: {said}")
    ctx.log(f"restic checked {restic.repository.name}: no errors.")


def compared(recorded: str, restored: str) -> list[str]:
    """What differs between rows per table as recorded and as restored (none recorded: none)."""
    if not recorded:
        return []
    before, after = _counts(recorded), _counts(restored)
    return [
        f"{table}: {before.get(table, 'absent')} when made, {after.get(table, 'absent')} restored"
        for table in sorted(before.keys() | after.keys())
        if before.get(table) != after.get(table)
    ]


def _counts(text: str) -> dict[str, str]:
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if " " in line)


def _latest(accessory: Accessory, policy_id: int | None) -> Backup | None:
    backups = Backup.objects.filter(accessory=accessory, succeeded=True).select_related(
        "repository", "accessory__server__ssh_key"
    )
    if policy_id:
        policy = Policy.objects.filter(pk=policy_id, accessory=accessory).first()
        if policy is not None:
            backups = backups.filter(repository__in=policy.repositories.all())
    return backups.first()
