"""Docker commands for an app's containers. Pure: values in, argv lists out."""

from __future__ import annotations

import csv
import io
import shlex

from servers.commands.docker import NETWORK

# `. envfile` exports the values inside the shell, and `docker run --env NAME` passes them on
# to the daemon: values never appear on a command line, in `ps`, or in the job log.
LOAD_ENV_AND_RUN = '. "$0" && exec "$@"'
LABEL_APP = "panel.app"
LABEL_ROLE = "panel.role"
LABEL_RELEASE = "panel.release"


def registry_of(image: str) -> str | None:
    """The registry host of an image reference, or None for Docker Hub."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def login(registry: str, username: str) -> list[str]:
    """The password goes on stdin."""
    return ["docker", "login", "--username", username, "--password-stdin", registry]


def pull(image: str) -> list[str]:
    return ["docker", "pull", "--quiet", image]


def push(image: str) -> list[str]:
    return ["docker", "push", "--quiet", image]


def build(
    image: str,
    dockerfile: str,
    env_path: str = "",
    arg_names: list[str] | None = None,
    secret_files: dict[str, str] | None = None,
) -> list[str]:
    """Build from a tar of the context on stdin. Build arguments are named only: their values
    come from the sourced env file, like a container's environment. Build secrets are files
    that BuildKit mounts into `RUN --mount=type=secret,id=NAME` and keeps out of the image."""
    argv = ["docker", "build", "--tag", image, "--file", dockerfile]
    for name in arg_names or []:
        argv += ["--build-arg", name]
    if secret_files:
        argv = ["env", "DOCKER_BUILDKIT=1", *argv, "--progress", "plain"]
        for name, path in secret_files.items():
            argv += ["--secret", _csv_fields(f"id={name}", f"src={path}")]
    argv.append("-")
    return ["sh", "-c", LOAD_ENV_AND_RUN, env_path, *argv] if arg_names else argv


def image_id(image: str) -> list[str]:
    return ["docker", "image", "inspect", "--format", "{{.Id}}", image]


def save(image: str) -> list[str]:
    return ["docker", "save", image]


def load() -> list[str]:
    return ["docker", "load", "--quiet"]


def env_file(values: dict[str, str]) -> bytes:
    """A file for `sh` to source: one `export NAME='value'` per variable, any bytes kept."""
    return "".join(
        f"export {name}={shlex.quote(value)}\n" for name, value in values.items()
    ).encode()


def run(
    *,
    name: str,
    image: str,
    app: str,
    role: str,
    release: str,
    env_path: str,
    env_names: list[str],
    volumes: list[str],
    command: list[str],
) -> list[str]:
    argv = ["sh", "-c", LOAD_ENV_AND_RUN, env_path, "docker", "run", "--detach", "--name", name,
            "--network", NETWORK, "--restart", "unless-stopped",
            "--label", f"{LABEL_APP}={app}", "--label", f"{LABEL_ROLE}={role}",
            "--label", f"{LABEL_RELEASE}={release}"]  # fmt: skip
    return _with_env_and_volumes(argv, env_names, volumes, image, command)


def run_once(
    *,
    name: str,
    image: str,
    app: str,
    env_path: str,
    env_names: list[str],
    volumes: list[str],
    command: list[str],
) -> list[str]:
    """A one-off container (hooks, app exec): removed when its command ends."""
    argv = ["sh", "-c", LOAD_ENV_AND_RUN, env_path, "docker", "run", "--rm", "--name", name,
            "--network", NETWORK, "--label", f"{LABEL_APP}={app}",
            "--label", f"{LABEL_ROLE}=one-off"]  # fmt: skip
    return _with_env_and_volumes(argv, env_names, volumes, image, command)


def exec_in(name: str, command: list[str]) -> list[str]:
    return ["docker", "exec", name, *command]


def follow_logs(name: str, tail: int = 100) -> list[str]:
    return ["docker", "logs", "--follow", "--tail", str(tail), name]


def stop(name: str, timeout: int) -> list[str]:
    return ["docker", "stop", "--time", str(timeout), name]


def start(name: str) -> list[str]:
    return ["docker", "start", name]


def remove(name: str) -> list[str]:
    return ["docker", "rm", "--force", name]


def remove_image(image: str) -> list[str]:
    return ["docker", "image", "rm", image]


def image_digest(image: str) -> list[str]:
    """The registry digest (`repo@sha256:…`) of a pulled image; empty for a local build."""
    return ["docker", "image", "inspect", "--format", "{{index .RepoDigests 0}}", image]


def remove_all_for_app(app: str) -> list[str]:
    """Remove every container labelled as the app's (the label value is one argument)."""
    script = 'docker ps --all --quiet --filter "label=$0=$1" | xargs -r docker rm --force'
    return ["sh", "-c", script, LABEL_APP, app]


def list_for_app(app: str) -> list[str]:
    return ["docker", "ps", "--all", "--no-trunc", "--filter", f"label={LABEL_APP}={app}",
            "--format", "{{.Names}}"]  # fmt: skip


def _csv_fields(*fields: str) -> str:
    """One CSV record, the format of `--secret` values (a path may hold a comma)."""
    record = io.StringIO()
    csv.writer(record, lineterminator="").writerow(fields)
    return record.getvalue()


def _with_env_and_volumes(
    argv: list[str], env_names: list[str], volumes: list[str], image: str, command: list[str]
) -> list[str]:
    """The end of a `docker run`: variables by name only, volumes, the image and its command."""
    for env_name in env_names:
        argv += ["--env", env_name]
    for volume in volumes:
        argv += ["--volume", volume]
    return [*argv, image, *command]
