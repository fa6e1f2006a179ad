"""The panel's mirror of an app's repository: fetch, resolve a ref, archive a commit.

Runs the `git` binary here with argv lists (no shell). Only https, ssh (and local paths where
settings allow it, for the lab) are allowed as transports; credentials reach git through an
askpass helper or an ssh key file in a private temporary folder, removed afterwards.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import asyncssh
from django.conf import settings

from deployments.models import App
from servers import keys

TIMEOUT = 600
HOST_KEY_CHANGED = "Host key verification failed"
ASKPASS = """#!/bin/sh
case "$1" in
  Username*) echo x-access-token ;;
  *) printf '%s\\n' "$PANEL_GIT_PASSWORD" ;;
esac
"""


class GitError(Exception):
    """git failed; the message is git's own last words (never a credential)."""


def mirror_path(app: App) -> Path:
    return Path(settings.PANEL_DATA_DIR) / "git" / f"{app.pk.hex}.git"


def fetch(app: App) -> str:
    """Bring the mirror up to date. Returns the known_hosts lines of the git host when ssh
    trusted its key on this fetch, the app having none yet (trust on first use); else ""."""
    mirror = mirror_path(app)
    if (mirror / "HEAD").exists():
        args = ["--git-dir", str(mirror), "fetch", "--prune", "--quiet", "origin"]
    else:
        mirror.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        args = ["clone", "--mirror", "--quiet", "--", app.git_url, str(mirror)]
    return _run_git(app, args)[1]


def resolve(app: App, ref: str) -> tuple[str, str]:
    """The full commit SHA of a branch, tag or commit, and its subject line."""
    mirror = str(mirror_path(app))
    sha = _git(
        app,
        [
            "--git-dir",
            mirror,
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{ref}^{{commit}}",
        ],
    ).strip()
    if not sha:
        raise GitError(f"{ref} is not a branch, tag or commit of {app.git_url}.")
    subject = _git(app, ["--git-dir", mirror, "log", "-1", "--format=%s", sha]).strip()
    return sha, subject[:300]


def archive_argv(app: App, sha: str) -> list[str]:
    """The command that writes a tar of the build context at that commit (the whole tree, or
    one folder of it); the deploy streams its output into `docker build -`."""
    tree = f"{sha}:{app.build_context.strip('/')}" if app.build_context else sha
    return ["git", "--git-dir", str(mirror_path(app)), "archive", "--format=tar", tree]


def local_env() -> dict[str, str]:
    """The environment git runs in here when it needs no credentials (`archive`)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(Path(settings.PANEL_DATA_DIR) / "git"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def _git(app: App, args: list[str]) -> str:
    return _run_git(app, args)[0].decode(errors="replace")


def host_key_fingerprints(known_hosts: str) -> list[str]:
    """The SHA256 fingerprints of known_hosts lines (hashed host names or not)."""
    found = []
    for line in known_hosts.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            with suppress(ValueError, asyncssh.KeyImportError):
                found.append(keys.fingerprint(f"{fields[1]} {fields[2]}"))
    return found


def _run_git(app: App, args: list[str]) -> tuple[bytes, str]:
    """git's output, and the host key lines ssh newly trusted (see `fetch`)."""
    with _credentials(app) as (env, known_hosts):
        result = subprocess.run(
            ["git", *args], capture_output=True, env=env, timeout=TIMEOUT, check=False
        )
        learned = "" if app.git_host_key or known_hosts is None else known_hosts.read_text()
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        if HOST_KEY_CHANGED in stderr:
            raise GitError(
                f"The git host's key is not the one this app trusted on its first fetch "
                f"({', '.join(host_key_fingerprints(app.git_host_key))}); nothing was fetched. "
                "If the host changed its key, an admin can forget the old one on the app's "
                "page."
            )
        message = stderr.strip().splitlines()[-3:]
        raise GitError(f"git {args[-2] if len(args) > 1 else ''} failed: {' / '.join(message)}")
    return result.stdout, learned if learned.strip() else ""


@contextmanager
def _credentials(app: App) -> Iterator[tuple[dict[str, str], Path | None]]:
    protocols = "https:ssh" + (":file" if settings.PANEL_GIT_ALLOW_LOCAL else "")
    env = {**local_env(), "GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": protocols}
    if settings.PANEL_GIT_CA_FILE:
        env["GIT_SSL_CAINFO"] = settings.PANEL_GIT_CA_FILE
    with tempfile.TemporaryDirectory(prefix="panel-git-") as private:
        folder = Path(private)
        folder.chmod(0o700)
        token = app.git_token.reveal() if app.git_token else ""
        if token:
            helper = folder / "askpass"
            helper.write_text(ASKPASS)
            helper.chmod(0o700)
            env |= {"GIT_ASKPASS": str(helper), "PANEL_GIT_PASSWORD": token}
        if app.git_key is not None:
            key = folder / "key"
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(app.git_key.private_key.reveal())
            known_hosts = folder / "known_hosts"
            known_hosts.write_text(app.git_host_key)
            checking = "yes" if app.git_host_key else "accept-new"
            env["GIT_SSH_COMMAND"] = shlex.join(
                [
                    "ssh",
                    "-i",
                    str(key),
                    "-o",
                    "IdentitiesOnly=yes",
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    f"StrictHostKeyChecking={checking}",
                    "-o",
                    f"UserKnownHostsFile={known_hosts}",
                    "-o",
                    "GlobalKnownHostsFile=/dev/null",
                    "-o",
                    "HashKnownHosts=no",
                ]
            )
            yield env, known_hosts
        else:
            yield env, None
