"""restic in a container on the server, and the dumps streamed into it. Pure: values in, argv
lists out. The repository's password is a 0600 file mounted read-only; the S3 keys are in a
0600 env file given by name; neither is ever on a command line."""

from __future__ import annotations

import posixpath
import shlex

from deployments.commands.containers import LOAD_ENV_AND_RUN
from servers.commands.host import panel_path

PASSWORD_INSIDE = "/run/panel/restic-password"  # noqa: S105 (a path, not a password)
REPOSITORY_INSIDE = "/repository"
RESTORED_INSIDE = "/restored"  # where a restore writes, in restic's container
FILES_INSIDE = "/data"  # where an accessory's volumes are mounted, each at its own path below
# The variables restic reads; their values are in the env file.
ENV_NAMES = ("RESTIC_REPOSITORY", "RESTIC_PASSWORD_FILE", "AWS_ACCESS_KEY_ID",
             "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")  # fmt: skip
LABEL = "panel.restic"  # on every restic container, with its repository's id
# An SFTP repository: restic's ssh reaches its server by this name, with the repository's own
# key and the server's pinned host key; the three files are mounted read-only.
SFTP_HOST = "panel-repository"
SFTP_FILES = {"sftp-key": "/run/panel/sftp-key", "known_hosts": "/run/panel/known_hosts",
              "ssh_config": "/etc/ssh/ssh_config"}  # fmt: skip
SOURCE_FAILED = 97  # the exit status of a pipe whose source failed


def folder(repository_id: str) -> str:
    return panel_path("restic", repository_id)


def env_file(repository_id: str) -> str:
    return posixpath.join(folder(repository_id), "env")


def password_file(repository_id: str) -> str:
    return posixpath.join(folder(repository_id), "password")


def sftp_file(repository_id: str, name: str) -> str:
    return posixpath.join(folder(repository_id), name)


def sftp_location(repository_folder: str) -> str:
    return f"sftp:{SFTP_HOST}:{repository_folder}"


def ssh_config(host: str, port: int, user: str) -> str:
    """How restic's ssh reaches the repository's server: its key only, the pinned host key
    only, never a question."""
    return "\n".join([
        f"Host {SFTP_HOST}", f"  HostName {host}", f"  Port {port}", f"  User {user}",
        f"  HostKeyAlias {SFTP_HOST}", f"  IdentityFile {SFTP_FILES['sftp-key']}",
        "  IdentitiesOnly yes", f"  UserKnownHostsFile {SFTP_FILES['known_hosts']}",
        "  GlobalKnownHostsFile /dev/null", "  StrictHostKeyChecking yes", "  BatchMode yes",
        "  ConnectTimeout 20", "  ServerAliveInterval 15", "  ServerAliveCountMax 4", "",
    ])  # fmt: skip


def known_hosts(host_key: str) -> str:
    return f"{SFTP_HOST} {host_key.strip()}\n"


def authorized_line(public_key: str, repository_id: str) -> str:
    """The repository's key on its server: SFTP only (no shell, no forwarding, no terminal)."""
    return f'restrict,command="internal-sftp" {public_key.strip()} panel-restic-{repository_id}'


# $0: the line, added to the user's authorized_keys unless it is there already.
AUTHORIZE = (
    "umask 077 && mkdir -p ~/.ssh && touch ~/.ssh/authorized_keys && "
    '{ grep -qxF "$0" ~/.ssh/authorized_keys || printf \'%s\\n\' "$0" >> ~/.ssh/authorized_keys; }'
)


def authorize(line: str) -> list[str]:
    return ["sh", "-c", AUTHORIZE, line]


def restic(
    repository_id: str,
    image: str,
    home: str,
    args: list[str],
    *,
    local_folder: str = "",
    sftp: bool = False,
    stdin: bool = False,
    mounts: tuple[str, ...] = (),
    entrypoint: str = "restic",
) -> list[str]:
    """restic with the repository's variables and password file; a local repository's folder
    mounted at /repository, an SFTP repository's ssh files, and `mounts` (`source:path[:ro]`)
    as given."""
    argv = ["sh", "-c", LOAD_ENV_AND_RUN, env_file(repository_id), "docker", "run", "--rm",
            "--label", f"{LABEL}={repository_id}"]  # fmt: skip
    if stdin:
        argv.append("--interactive")
    for name in ENV_NAMES:
        argv += ["--env", name]
    password = posixpath.join(home, password_file(repository_id))
    argv += ["--volume", f"{password}:{PASSWORD_INSIDE}:ro"]
    if local_folder:
        argv += ["--volume", f"{local_folder}:{REPOSITORY_INSIDE}"]
    for name, inside in SFTP_FILES.items() if sftp else ():
        argv += ["--volume", f"{posixpath.join(home, sftp_file(repository_id, name))}:{inside}:ro"]
    for mount in mounts:
        argv += ["--volume", mount]
    return [*argv, "--entrypoint", entrypoint, image, *args]


# A files snapshot restored inside restic's container, every byte checked, and its files
# counted (a command for `sh -c`; $0: the snapshot).
RESTORE_AND_COUNT = (
    f'restic restore "$0" --target {RESTORED_INSIDE} --verify >&2 && '
    f"find {RESTORED_INSIDE}{FILES_INSIDE} ! -type d | wc -l"
)


def files_mounts(volumes: list[str], mode: str = "ro") -> tuple[str, ...]:
    """An accessory's volumes (`source:path[:mode]`), each at FILES_INSIDE + its path, so a
    snapshot's paths are the container's own under /data."""
    return tuple(
        f"{volume.split(':')[0]}:{FILES_INSIDE}{volume.split(':')[1]}:{mode}" for volume in volumes
    )


def piped(source: list[str], sink: list[str], status_file: str) -> list[str]:
    """One command's output piped into another's input, never staged on disk: a dump into
    restic, or a snapshot into a database. The source's exit status is kept (restic before
    0.17 keeps what it got when a dump dies, a client may take a cut dump for a whole one), and
    a failed source ends the whole with SOURCE_FAILED."""
    script = (
        f"{{ {shlex.join(source)}; echo $? > {shlex.quote(status_file)}; }} | {shlex.join(sink)}; "
        f"taken=$?; given=$(cat {shlex.quote(status_file)} 2>/dev/null || echo 255); "
        f"rm -f {shlex.quote(status_file)}; "
        f'if [ "$given" != 0 ]; then echo "{shlex.quote(source[0])} exited $given" >&2; '
        f"exit {SOURCE_FAILED}; fi; exit $taken"
    )
    return ["sh", "-c", script]


def running(repository_id: str) -> list[str]:
    """The restic containers of a repository running on the server."""
    return ["docker", "ps", "--quiet", "--filter", f"label={LABEL}={repository_id}"]


# Run as root inside a container of the accessory's own image, so owners and modes are kept.
COPY_VOLUME = "find /to -mindepth 1 -delete && cp -a /from/. /to/"


def copy_volume(image: str, source: str, destination: str) -> list[str]:
    """Make a volume's files those of another (whose files stay): neither container runs."""
    mounts = ["--volume", f"{source}:/from:ro", "--volume", f"{destination}:/to"]
    return ["docker", "run", "--rm", *mounts, "--entrypoint", "sh", image, "-c", COPY_VOLUME]
