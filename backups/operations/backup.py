"""The backup job: an accessory's dump streamed into restic on its own server (in a container,
nothing installed on the host). The repository is opened as it is, or made when there is none;
a stale lock of a killed run is removed; a dump that fails is never recorded as a backup, and
the partial snapshot it left is forgotten."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from backups import commands, state
from backups.models import Backup, Policy, Repository, RepositoryKind
from deployments.accessory_kinds import KINDS
from deployments.commands import accessories, containers
from deployments.models import Accessory
from deployments.operations.accessories import secrets_of
from deployments.spec import host_of
from panel.audit import Actor
from panel.jobs import locks
from panel.jobs.runner import JobContext, JobFailed
from panel.log_kinds import LogKind
from servers import ssh
from servers.commands import host as host_commands
from servers.execute import StepRunner
from servers.models import Server
from servers.plans import Phase, Put, Run, lane
from servers.targets import target_for

ENV_CONTENT, PASSWORD_CONTENT = "restic variables", "restic password"
BACKUP_TIMEOUT = 6 * 3600.0
PROGRESS_EVERY = 5.0  # seconds between the progress lines a backup writes into its log
# What restic says of a repository that is not there (rather than unreachable or refused).
ABSENT = ("is there a repository at the following location", "does not exist",
          "no such file or directory", "unable to open config file")  # fmt: skip


def back_up(ctx: JobContext) -> None:
    accessory = Accessory.objects.select_related("team", "server__ssh_key").get(
        pk=ctx.job.target_id
    )
    repository = Repository.objects.select_related("server").get(
        pk=ctx.job.params["repository_id"], team=accessory.team
    )
    kind = KINDS.get(accessory.kind, KINDS["custom"])
    if not kind.dump and not accessory.volumes:
        raise JobFailed(f"{accessory.name} has no volume: there is nothing of it to back up.")
    if locks.acquire(repository.lock_name, ctx.job.pk) is None:
        raise JobFailed(f"{repository.name} is busy with another job; nothing was backed up.")
    if repository.kind == RepositoryKind.LOCAL and repository.server_id != accessory.server_id:
        raise JobFailed(
            f"{repository.name} is a folder on {repository.server}: it holds backups of that "
            "server only. Use an S3 repository for other servers."
        )
    try:
        restic = opened(ctx, repository, accessory.server)
    except JobFailed as failure:
        state.recorded(Actor.of_job(ctx.job), repository, accessory, ctx.job, error=str(failure))
        raise
    policy = Policy.objects.filter(pk=ctx.job.params.get("policy_id") or 0).first()
    if policy is not None:
        restic.timeout = policy.timeout_minutes * 60.0
    backup = snapshot(ctx, restic, accessory)
    if policy is not None:
        keep(ctx, restic, policy, accessory, backup.snapshot_id)


def opened(ctx: JobContext, repository: Repository, server: Server) -> Restic:
    """restic for the repository on the server, its settings written there, the repository
    opened (or made) the first time; the job holds the repository's lock."""
    restic = Restic(repository, server)
    for secret in restic.secrets:
        ctx.add_secret(secret)
    restic.prepare(ctx)
    restic.open_or_create(ctx)
    return restic


def snapshot(ctx: JobContext, restic: Restic, accessory: Accessory) -> Backup:
    """The accessory's dump streamed into a snapshot, recorded with its rows per table, or its
    volumes' files (for any image), recorded with their count; a failure is recorded as one and
    fails the job (a partial snapshot is forgotten)."""
    kind, repository = KINDS.get(accessory.kind, KINDS["custom"]), restic.repository
    if not kind.dump:
        return _files(ctx, restic, accessory)
    started = time.monotonic()
    names = sorted(secrets_of(accessory)[0])
    dump = accessories.ask(accessory.name, names, list(kind.dump))
    args = ["backup", "--json", "--stdin", "--stdin-filename", kind.dump_name,
            "--host", accessory.server.name, "--tag", f"accessory:{accessory.name}"]  # fmt: skip
    status = f"{commands.folder(str(repository.pk))}/dump-{ctx.job.pk}.status"
    ctx.log(
        f"{accessory.name}: streaming {' '.join(kind.dump[:1])} into restic ({repository.location})"
    )
    pipe = commands.piped(dump, restic.argv(args, stdin=True), status)
    rows_before, done = _counted_while(ctx, restic, accessory, names, kind.count_rows, pipe)
    if done.exit_status != 0 and _locked(done.stderr):
        restic.unlock_stale(ctx)
        rows_before, done = _counted_while(ctx, restic, accessory, names, kind.count_rows, pipe)
    summary = summary_of(done.stdout)
    made = str(summary.get("snapshot_id", ""))
    actor = Actor.of_job(ctx.job)
    if done.exit_status != 0:
        why = words_of(done.stderr) or f"restic exited {done.exit_status}"
        if done.exit_status == commands.SOURCE_FAILED and made:
            restic.forget(made)
            why = f"{why}; the partial snapshot {made[:8]} is forgotten"
        state.recorded(actor, repository, accessory, ctx.job, error=why)
        raise JobFailed(f"The backup of {accessory.name} failed: {why}. Nothing is recorded.")
    rows_after = asyncio.run(_count(restic, accessory, names, kind.count_rows))
    backup = state.recorded(
        actor,
        repository,
        accessory,
        ctx.job,
        snapshot_id=made,
        bytes_read=int(summary.get("total_bytes_processed", 0)),
        bytes_added=int(summary.get("data_added", 0)),
        seconds=time.monotonic() - started,
        rows=rows_before if rows_before == rows_after else "",
    )
    ctx.log(
        f"Snapshot {made[:8]} of {accessory.name} in {repository.name}: "
        f"{backup.bytes_read} bytes read, {backup.bytes_added} added, {backup.seconds:.1f}s."
    )
    if kind.count_rows and not backup.rows:
        ctx.log("Rows changed while the dump ran: a verification checks that it restores only.")
    return backup


def _files(ctx: JobContext, restic: Restic, accessory: Accessory) -> Backup:
    """Its volumes, mounted read-only into restic, as they are while it runs."""
    repository, started = restic.repository, time.monotonic()
    args = ["backup", "--json", commands.FILES_INSIDE, "--host", accessory.server.name,
            "--tag", f"accessory:{accessory.name}"]  # fmt: skip
    ctx.log(f"{accessory.name}: its volumes into restic ({repository.location})")
    mounts = commands.files_mounts(list(accessory.volumes))
    argv = restic.argv(args, mounts=mounts)
    done = asyncio.run(with_progress(ctx, restic, argv))
    if done.exit_status != 0 and _locked(done.stderr):
        restic.unlock_stale(ctx)
        done = asyncio.run(with_progress(ctx, restic, argv))
    summary, actor = summary_of(done.stdout), Actor.of_job(ctx.job)
    if done.exit_status != 0:
        why = words_of(done.stderr) or f"restic exited {done.exit_status}"
        state.recorded(actor, repository, accessory, ctx.job, error=why)
        raise JobFailed(f"The backup of {accessory.name} failed: {why}. Nothing is recorded.")
    made, files = str(summary.get("snapshot_id", "")), int(summary.get("total_files_processed", 0))
    backup = state.recorded(
        actor, repository, accessory, ctx.job, snapshot_id=made,
        bytes_read=int(summary.get("total_bytes_processed", 0)),
        bytes_added=int(summary.get("data_added", 0)), seconds=time.monotonic() - started,
        rows=f"{commands.FILES_INSIDE} {files}",
    )  # fmt: skip
    ctx.log(f"Snapshot {made[:8]} of {accessory.name}'s volumes: {files} files, "
            f"{backup.bytes_read} bytes read, {backup.bytes_added} added.")  # fmt: skip
    return backup


def list_snapshots(ctx: JobContext, restic: Restic) -> None:
    """Every snapshot in the repository, whichever tool made it, recorded for its page."""
    listed = restic.run(["snapshots", "--json", "--no-lock"])
    if not listed.ok:
        raise JobFailed(
            f"restic could not list {restic.repository.name}: {words_of(listed.stderr)}"
        )
    found = json.loads(listed.stdout or "[]")
    kept = [
        {key: snapshot.get(key) for key in ("short_id", "time", "hostname", "tags", "paths")}
        for snapshot in sorted(found, key=lambda snapshot: str(snapshot.get("time")), reverse=True)
    ]
    stats = restic.run(["stats", "--json", "--mode", "raw-data", "--no-lock"])
    size = int(json.loads(stats.stdout).get("total_size", 0)) if stats.ok else None
    state.snapshots_listed(restic.repository, kept, size)
    stored = f", {size / 1e6:.1f} MB stored" if size is not None else ""
    ctx.log(f"{restic.repository.name} holds {len(kept)} snapshot(s){stored}.")


def _counted_while(
    ctx: JobContext, restic: Restic, accessory: Accessory, names: list[str],
    count: tuple[str, ...], pipe: list[str],
) -> tuple[str, ssh.CommandResult]:  # fmt: skip
    """The rows per table counted as the dump starts, and the dump streamed into restic."""

    async def both() -> tuple[str, ssh.CommandResult]:
        counted, done = await asyncio.gather(
            _count(restic, accessory, names, count),
            with_progress(ctx, restic, pipe),
        )
        return counted, done

    return asyncio.run(both())


async def _count(
    restic: Restic, accessory: Accessory, names: list[str], count: tuple[str, ...]
) -> str:
    if not count:
        return ""
    asked = accessories.ask(accessory.name, names, list(count))
    counted = await ssh.run(restic.target, asked, check=False)
    return counted.stdout.strip() if counted.ok else ""


async def with_progress(ctx: JobContext, restic: Restic, argv: list[str]) -> ssh.CommandResult:
    """A `restic backup --json` run whose status lines reach the job's log as it goes (at most
    every PROGRESS_EVERY seconds); its exit status and output as ssh.run gives them."""
    out: list[str] = []
    err: list[str] = []
    started = last = time.monotonic()
    status = 0
    try:
        async for stream, line in ssh.stream(restic.target, argv, timeout=restic.timeout,
                                             terminal=False):  # fmt: skip
            if stream == "err":
                err = [*err[-49:], line]
            elif '"message_type":"status"' in line.replace(" ", ""):
                if time.monotonic() - last >= PROGRESS_EVERY:
                    last = time.monotonic()
                    ctx.log(progress_of(line))
            else:
                out.append(line)
    except ssh.CommandFailed as failure:
        status = failure.result.exit_status
    except ssh.CommandTimeout:
        status = -1
        err.append(f"it ran past its timeout ({restic.timeout / 60:.0f} minutes) and was stopped")
    return ssh.CommandResult(tuple(argv), status, "\n".join(out), "\n".join(err),
                             time.monotonic() - started)  # fmt: skip


def progress_of(line: str) -> str:
    """One of restic's status lines in words: what it has read, and how far when it knows."""
    try:
        status = json.loads(line)
    except ValueError:
        return line[:200]
    read = int(status.get("bytes_done", 0))
    done = f"{read / 1e6:.1f} MB read"
    total = int(status.get("total_bytes", 0))
    if total:
        done += f" of {total / 1e6:.1f} MB ({100 * read / total:.0f} %)"
    return f"… {done}, {int(status.get('seconds_elapsed', 0))}s"


def _locked(said: str) -> bool:
    """Whether restic failed on a lock (another's, or one left by a killed run)."""
    return "already locked" in said or "unable to create lock" in said


def keep(
    ctx: JobContext, restic: Restic, policy: Policy, accessory: Accessory, snapshot: str
) -> None:
    """Only what the policy keeps stays: restic's `forget --prune` on this accessory's
    snapshots from this server. A failure here fails the job, the backup itself being made."""
    tags = ["--tag", f"accessory:{accessory.name}", "--host", accessory.server.name]
    kept = restic.run(["forget", *tags, *policy.keep, "--prune"], timeout=BACKUP_TIMEOUT)
    if not kept.ok and _locked(kept.stderr):
        restic.unlock_stale(ctx)
        kept = restic.run(["forget", *tags, *policy.keep, "--prune"], timeout=BACKUP_TIMEOUT)
    if not kept.ok:
        raise JobFailed(
            f"Snapshot {snapshot[:8]} is made, but forgetting what the policy does not keep "
            f"failed: {words_of(kept.stderr)}"
        )
    ctx.log(f"{restic.repository.name} keeps what the policy says ({' '.join(policy.keep)}).")


class Restic:
    """restic for one repository on one server, with its settings written there first."""

    def __init__(self, repository: Repository, server: Server) -> None:
        self.repository, self.server = repository, server
        self.timeout = BACKUP_TIMEOUT  # of a backup (a policy sets its own)
        self.target = target_for(server)
        self.home = asyncio.run(ssh.home_dir(self.target))
        self.password = repository.password.reveal()
        self.secret_key = repository.secret_key.reveal() if repository.secret_key else ""
        self.sftp_key = repository.sftp_key.reveal() if repository.sftp_key else ""
        self.values = _variables(repository, self.secret_key)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What the job's log masks: the repository's password and keys."""
        return tuple(s for s in (self.password, self.secret_key, self.sftp_key) if s)

    def argv(
        self, args: list[str], *, stdin: bool = False, mounts: tuple[str, ...] = (),
        entrypoint: str = "restic",
    ) -> list[str]:  # fmt: skip
        kind = self.repository.kind
        local = self.repository.folder if kind == RepositoryKind.LOCAL else ""
        return commands.restic(
            str(self.repository.pk), self.repository.image, self.home, args,
            local_folder=local, sftp=kind == RepositoryKind.SFTP, stdin=stdin, mounts=mounts,
            entrypoint=entrypoint,
        )  # fmt: skip

    def prepare(self, ctx: JobContext) -> None:
        on, key = host_of(self.server), str(self.repository.pk)
        steps: list[Run | Put] = [
            Run(on, tuple(host_commands.make_directory(commands.folder(key))), "its folder"),
            Put(on, commands.env_file(key), 0o600, ENV_CONTENT, tuple(sorted(self.values)),
                "restic's variables"),
            Put(on, commands.password_file(key), 0o600, PASSWORD_CONTENT, ("its password",),
                "the repository's password"),
        ]  # fmt: skip
        if self.repository.kind == RepositoryKind.LOCAL:
            steps.append(Run(on, ("mkdir", "-p", "--", self.repository.folder), "the repository"))
        image = self.repository.image
        steps += [*self._sftp_steps(), Run(on, tuple(containers.pull(image)), "restic's image",
                  timeout=900, unless=tuple(containers.image_id(image)))]  # fmt: skip
        lanes = [lane(*steps)]
        targets = {self.server.pk: self.target}
        if self.repository.kind == RepositoryKind.SFTP and self.repository.opened_at is None:
            holder = self.repository.server
            assert holder is not None  # an SFTP repository is on a server
            targets[holder.pk] = target_for(holder)
            line = commands.authorized_line(self.repository.sftp_public_key, key)
            lanes.append(lane(Run(host_of(holder), tuple(commands.authorize(line)),
                                  "the repository's key, allowed SFTP only")))  # fmt: skip
        runner = StepRunner(
            targets,
            ctx.log,
            contents={
                ENV_CONTENT: containers.env_file(self.values),
                PASSWORD_CONTENT: self.password.encode(),
                **self._sftp_contents(),
            },
            check_cancelled=ctx.check_cancelled,
        )
        asyncio.run(runner.phase(Phase("Repository settings", tuple(lanes))))

    def _sftp_steps(self) -> list[Run | Put]:
        """An SFTP repository's key, its server's host key and how to reach it, on this
        server."""
        if self.repository.kind != RepositoryKind.SFTP:
            return []
        on, key = host_of(self.server), str(self.repository.pk)
        return [
            Put(on, commands.sftp_file(key, name), 0o600 if name == "sftp-key" else 0o644, name,
                (what,), f"the repository's {what}")
            for name, what in (("sftp-key", "SFTP key"), ("known_hosts", "server's host key"),
                               ("ssh_config", "ssh settings"))
        ]  # fmt: skip

    def _sftp_contents(self) -> dict[str, bytes]:
        holder = self.repository.server
        if self.repository.kind != RepositoryKind.SFTP or holder is None:
            return {}
        return {
            "sftp-key": self.sftp_key.encode(),
            "known_hosts": commands.known_hosts(holder.host_key).encode(),
            "ssh_config": commands.ssh_config(holder.host, holder.port, holder.user).encode(),
        }

    def open_or_create(self, ctx: JobContext) -> None:
        """An existing repository is used as it is, never made again; one the panel has opened
        before is not asked again (restic fails clearly if it is gone, and it is not made
        anew then). Opening it lists its locks too, so a stale one is removed here."""
        if self.repository.opened_at is not None:
            return
        opened = self.run(["list", "locks", "--no-lock"])
        if opened.ok:
            ctx.log(f"{self.repository.name}: an existing repository, used as it is.")
            self.unlock_stale(ctx, set(opened.stdout.split()))
            list_snapshots(ctx, self)
        else:
            self._create(ctx, opened.stderr)
        state.opened(self.repository)

    def _create(self, ctx: JobContext, said: str) -> None:
        words = said.lower()
        if "wrong password" in words or "no key found" in words:
            raise JobFailed(
                f"{self.repository.name}: restic says the password does not open it "
                f"({words_of(said)}). Nothing was backed up."
            )
        if not any(absent in words for absent in ABSENT):
            raise JobFailed(
                f"{self.repository.name}: restic cannot open it ({words_of(said)}). Nothing was "
                "backed up."
            )
        holder = self.repository.server
        if holder is not None:  # a folder, here or over SFTP
            listed = asyncio.run(
                ssh.run(target_for(holder), ["ls", "-A", "--", self.repository.folder],
                        check=False)
            )  # fmt: skip
            if listed.stdout.strip():
                raise JobFailed(
                    f"{self.repository.folder} on {holder.name} holds files but no restic "
                    "repository that opens: nothing is made over them, nothing was backed up."
                )
        made = self.run(["init"])
        if not made.ok:
            raise JobFailed(
                f"{self.repository.name}: restic could not make it: {words_of(made.stderr)}"
            )
        ctx.log(f"{self.repository.name}: a new repository is made.")

    def unlock_stale(self, ctx: JobContext, found: set[str] | None = None) -> None:
        """A lock left by a killed run blocks every later prune and check. The job holds the
        panel's lock of the repository, so no other run of the panel uses it; when no restic
        container of it runs on this server either, its locks have no holder left."""
        before = self.locks() if found is None else found
        if not before:
            return
        running = asyncio.run(
            ssh.run(self.target, commands.running(str(self.repository.pk)), check=False)
        )
        if running.stdout.strip():
            return
        self.run(["unlock", "--remove-all"])
        ctx.log(
            f"{self.repository.name}: {len(before)} lock(s) left by a run that is gone removed.",
            LogKind.ERROR,
        )

    def locks(self) -> set[str]:
        listed = self.run(["list", "locks", "--no-lock"])
        return set(listed.stdout.split()) if listed.ok else set()

    def forget(self, snapshot: str) -> None:
        self.run(["forget", snapshot])

    def run(self, args: list[str], timeout: float = 600) -> ssh.CommandResult:
        return self.run_argv(self.argv(args), timeout)

    def run_argv(self, argv: list[str], timeout: float = 600) -> ssh.CommandResult:
        return asyncio.run(ssh.run(self.target, argv, check=False, timeout=timeout))


def _variables(repository: Repository, secret_key: str) -> dict[str, str]:
    values = {"RESTIC_PASSWORD_FILE": commands.PASSWORD_INSIDE}
    if repository.kind == RepositoryKind.LOCAL:
        return {**values, "RESTIC_REPOSITORY": commands.REPOSITORY_INSIDE}
    if repository.kind == RepositoryKind.SFTP:
        return {**values, "RESTIC_REPOSITORY": commands.sftp_location(repository.folder)}
    return {
        **values,
        "RESTIC_REPOSITORY": repository.location,
        "AWS_ACCESS_KEY_ID": repository.access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_DEFAULT_REGION": repository.region or "us-east-1",
    }


def summary_of(output: str) -> dict[str, Any]:
    for line in reversed(output.splitlines()):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("message_type") == "summary":
            return message
    return {}


def words_of(text: str) -> str:
    """restic's own words: its last lines that are not JSON status."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("{")]
    return " / ".join(lines[-3:])
