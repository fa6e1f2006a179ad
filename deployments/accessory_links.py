"""What a link says to its engine: the statements that create or drop a database and its user,
let a second login in and retire the first (rotation), and the URL an app is given. Pure.
Names are validated identifiers and passwords generated (URL-safe), so neither needs quoting
beyond the engine's own; the statements go to the engine's client on stdin, never on a command
line.

Rotation never has a moment when the app's running containers are refused: SQL engines get a
second login (`<user>_b`, then `<user>` again), Redis a second password on the same user, and
the old one is retired only once the app runs with the new one."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from django.core.exceptions import ValidationError

IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
LOGIN_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # a user's name, or its second login's
PASSWORD_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")  # what secrets.token_urlsafe makes
REDIS_DATABASES = 16
VARIABLES = {"postgres": "DATABASE_URL", "mysql": "DATABASE_URL", "redis": "REDIS_URL"}
SCHEMES = {"postgres": "postgres", "mysql": "mysql", "redis": "redis"}
REDIS_RIGHTS = "~* &* +@all -@admin"
SECOND_LOGIN = "_b"


def validate_identifier(value: str) -> None:
    if not IDENTIFIER_RE.fullmatch(value):
        raise ValidationError(
            f"“{value[:40]}” is not a database or user name: lowercase letters, digits and _, "
            "starting with a letter, at most 30."
        )


def identifier_for(app_name: str) -> str:
    return app_name.replace("-", "_")[:30]


def next_login(engine: str, user: str, login: str) -> str:
    """The login a rotation moves to: the other of the user's two (the same user for Redis)."""
    if engine == "redis":
        return user
    return user if login == f"{user}{SECOND_LOGIN}" else f"{user}{SECOND_LOGIN}"


def create_statements(engine: str, database: str, user: str, password: str) -> str:
    """Idempotent: a retried link sets the same names and the new password."""
    _check(database, user, password=password)
    if engine == "postgres":
        return (
            _pg_login(user, password)
            + f"SELECT format('CREATE DATABASE %I OWNER %I', '{database}', '{user}') WHERE NOT "
            f"EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec\n"
            f'GRANT ALL ON DATABASE "{database}" TO "{user}";\n'
        )
    if engine == "mysql":
        return f"CREATE DATABASE IF NOT EXISTS `{database}`;\n" + _mysql_login(
            database, user, password
        )
    if engine == "redis":
        return f"ACL SETUSER {user} reset on >{password} {REDIS_RIGHTS}\n"
    raise ValueError(f"no links to {engine or 'this image'}")


def accept_statements(engine: str, database: str, user: str, login: str, password: str) -> str:
    """Let `login` in with `password` beside what is accepted now (rotation's first half)."""
    _check(database, user, login=login, password=password)
    if engine == "postgres":
        statements = _pg_login(login, password)
        if login != user:  # it acts as the user: what it creates belongs to the user
            statements += (
                f'GRANT "{user}" TO "{login}";\nALTER ROLE "{login}" SET role = \'{user}\';\n'
            )
        return statements
    if engine == "mysql":
        return _mysql_login(database, login, password)
    if engine == "redis":
        return f"ACL SETUSER {user} on >{password}\n"
    raise ValueError(f"no links to {engine or 'this image'}")


def retire_statements(engine: str, user: str, login: str, password: str) -> str:
    """Stop accepting the old login (or the old password on Redis's one user)."""
    _check(user, login=login, password=password)
    if engine == "postgres":
        return f'ALTER ROLE "{login}" WITH NOLOGIN PASSWORD NULL;\n'
    if engine == "mysql":
        return f"DROP USER IF EXISTS '{login}'@'%';\n"
    if engine == "redis":
        return f"ACL SETUSER {user} <{password}\n"
    raise ValueError(f"no links to {engine or 'this image'}")


def drop_statements(engine: str, database: str, user: str, number: int) -> str:
    _check(database, user)
    second = f"{user}{SECOND_LOGIN}"
    if engine == "postgres":
        return (
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE);\n'
            f'DROP ROLE IF EXISTS "{second}";\nDROP ROLE IF EXISTS "{user}";\n'
        )
    if engine == "mysql":
        return (
            f"DROP DATABASE IF EXISTS `{database}`;\n"
            f"DROP USER IF EXISTS '{user}'@'%', '{second}'@'%';\n"
        )
    if engine == "redis":
        return f"{redis_forget(user)}SELECT {number}\nFLUSHDB\n"
    raise ValueError(f"no links to {engine or 'this image'}")


def redis_forget(user: str) -> str:
    """A Redis link's user goes with the link (its keys stay unless dropped)."""
    validate_identifier(user)
    return f"ACL DELUSER {user}\n"


def redis_user_line(user: str, *passwords: str) -> str:
    """The user as a line of Redis's config file (its passwords as hashes), so that a reboot
    keeps it: ACL SETUSER alone lasts until the server stops."""
    validate_identifier(user)
    hashes = " ".join(f"#{hashlib.sha256(p.encode()).hexdigest()}" for p in passwords)
    return f"user {user} on {hashes} {REDIS_RIGHTS}"


def probe(
    engine: str, client: str, *, host: str, port: int, login: str, database: str
) -> tuple[tuple[str, ...], str]:
    """The engine's own client asking it something as `login`, and the variable that must hold
    the password (it reads it from there, never from its command line)."""
    at = ("-h", host, "-p", str(port))
    if engine == "postgres":
        return (client, *at, "-U", login, "-d", database, "-tAc", "SELECT 1"), "PGPASSWORD"
    if engine == "mysql":
        at = ("-h", host, "-P", str(port))
        return (client, *at, "-u", login, "-e", "SELECT 1", database), "MYSQL_PWD"
    if engine == "redis":
        return (client, *at, "--user", login, "--no-auth-warning", "-e", "PING"), "REDISCLI_AUTH"
    raise ValueError(f"no links to {engine or 'this image'}")


def url(
    engine: str, *, user: str, password: str, host: str, port: int, database: str, number: int
) -> str:
    where = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}"
    path = str(number) if engine == "redis" else database
    return f"{SCHEMES[engine]}://{where}/{path}"


def _check(*names: str, login: str = "", password: str = "") -> None:
    for name in names:
        validate_identifier(name)
    if login and not LOGIN_RE.fullmatch(login):
        raise ValidationError(f"“{login[:40]}” is not a login name.")
    if password and not PASSWORD_RE.fullmatch(password):
        raise ValueError("a link's password is generated, URL-safe")


def _pg_login(login: str, password: str) -> str:
    return (
        f"SELECT format('CREATE ROLE %I LOGIN', '{login}') WHERE NOT EXISTS "
        f"(SELECT FROM pg_roles WHERE rolname = '{login}')\\gexec\n"
        f"ALTER ROLE \"{login}\" WITH LOGIN PASSWORD '{password}';\n"
    )


def _mysql_login(database: str, login: str, password: str) -> str:
    return (
        f"CREATE USER IF NOT EXISTS '{login}'@'%' IDENTIFIED BY '{password}';\n"
        f"ALTER USER '{login}'@'%' IDENTIFIED BY '{password}';\n"
        f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{login}'@'%';\n"
    )
