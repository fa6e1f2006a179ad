"""Where an app keeps its files on a server. Paths are relative to the login's home: commands
over SSH start there and SFTP resolves them there, so no step has to look the home up and the
plan shows the very path that is used."""

from __future__ import annotations

import posixpath

from servers.commands.host import panel_path


def app_dir(app: str) -> str:
    return panel_path("apps", app)


def env_file(app: str, role: str) -> str:
    """The role's variables, mode 0600, sourced by the shell that starts its containers."""
    return posixpath.join(app_dir(app), f"{role}.env")


def build_dir(app: str) -> str:
    """A build's argument and secret files while it runs; removed when it ends."""
    return posixpath.join(app_dir(app), "build")


def build_args_file(app: str) -> str:
    return posixpath.join(build_dir(app), "args.env")


def build_secret_file(app: str, name: str) -> str:
    return posixpath.join(build_dir(app), f"secret-{name}")
