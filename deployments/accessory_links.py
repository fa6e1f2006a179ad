"""What a link says to its engine: the statements that create or drop a database and its user,
and the URL an app is given. Pure. Names are validated identifiers and the password is
generated (URL-safe), so neither needs quoting beyond the engine's own; the statements go to
the engine's client on stdin, never on a command line."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from django.core.exceptions import ValidationError

IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
PASSWORD_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")  # what secrets.token_urlsafe makes
REDIS_DATABASES = 16
VARIABLES = {"postgres": "DATABASE_URL", "mysql": "DATABASE_URL", "redis": "REDIS_URL"}
SCHEMES = {"postgres": "postgres", "mysql": "mysql", "redis": "redis"}
REDIS_RIGHTS = "~* &* +@all -@admin"


def validate_identifier(value: str) -> None:
    if not IDENTIFIER_RE.fullmatch(value):
        raise ValidationError(
            f"“{value[:40]}” is not a database or user name: lowercase letters, digits and _, "
            "starting with a letter, at most 32."
        )


def identifier_for(app_name: str) -> str:
    return app_name.replace("-", "_")[:32]


def create_statements(engine: str, database: str, user: str, password: str) -> str:
    """Idempotent: a retried link sets the same names and the new password."""
    for name in (database, user):
        validate_identifier(name)
    if not PASSWORD_RE.fullmatch(password):
        raise ValueError("a link's password is generated, URL-safe")
    if engine == "postgres":
        # Validated identifiers and a generated password, checked above.
        return (
            f"SELECT format('CREATE ROLE %I LOGIN', '{user}') WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT FROM pg_roles WHERE rolname = '{user}')\\gexec\n"
            f"ALTER ROLE \"{user}\" WITH LOGIN PASSWORD '{password}';\n"
            f"SELECT format('CREATE DATABASE %I OWNER %I', '{database}', '{user}') WHERE NOT "
            f"EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec\n"
            f'GRANT ALL ON DATABASE "{database}" TO "{user}";\n'
        )
    if engine == "mysql":
        return (
            f"CREATE DATABASE IF NOT EXISTS `{database}`;\n"
            f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}';\n"
            f"ALTER USER '{user}'@'%' IDENTIFIED BY '{password}';\n"
            f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%';\n"
        )
    if engine == "redis":
        return f"ACL SETUSER {user} reset on >{password} {REDIS_RIGHTS}\n"
    raise ValueError(f"no links to {engine or 'this image'}")


def drop_statements(engine: str, database: str, user: str, number: int) -> str:
    for name in (database, user):
        validate_identifier(name)
    if engine == "postgres":
        return (
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE);\nDROP ROLE IF EXISTS "{user}";\n'
        )
    if engine == "mysql":
        return f"DROP DATABASE IF EXISTS `{database}`;\nDROP USER IF EXISTS '{user}'@'%';\n"
    if engine == "redis":
        return f"{redis_forget(user)}SELECT {number}\nFLUSHDB\n"
    raise ValueError(f"no links to {engine or 'this image'}")


def redis_forget(user: str) -> str:
    """A Redis link's user goes with the link (its keys stay unless dropped)."""
    validate_identifier(user)
    return f"ACL DELUSER {user}\n"


def redis_user_line(user: str, password: str) -> str:
    """The user as a line of Redis's config file (its password as a hash), so that a reboot
    keeps it: ACL SETUSER alone lasts until the server stops."""
    validate_identifier(user)
    digest = hashlib.sha256(password.encode()).hexdigest()
    return f"user {user} on #{digest} {REDIS_RIGHTS}"


def url(
    engine: str, *, user: str, password: str, host: str, port: int, database: str, number: int
) -> str:
    where = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}"
    path = str(number) if engine == "redis" else database
    return f"{SCHEMES[engine]}://{where}/{path}"
