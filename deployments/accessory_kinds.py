"""What the panel knows of each kind of accessory: its image, where its data lives, how its
password reaches it, and how to ask whether it is ready. Pure values."""

from __future__ import annotations

from dataclasses import dataclass

# Exact rows per table of every database, one `database.schema.table rows` line each; as the
# container's own superuser, on the live accessory or on a copy (whose own database is left out).
PG_COUNT_ROWS = """
for db in $(psql -U "$POSTGRES_USER" -d "${POSTGRES_DB:-postgres}" -tAc "SELECT datname
            FROM pg_database WHERE NOT datistemplate AND datname NOT LIKE 'panel\\_restore%'
            ORDER BY 1"); do
  psql -U "$POSTGRES_USER" -d "$db" -tAc "SELECT '$db.' || table_schema || '.' || table_name
    || ' ' || (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
        table_schema, table_name), false, true, '')))[1]::text
    FROM information_schema.tables WHERE table_type = 'BASE TABLE'
    AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1" || exit 1
done
"""
# Exact rows per table of every database but the server's own, one `database.table rows` line
# each: the first client writes a COUNT(*) per table, the second runs them. {client}: its name.
MYSQL_COUNT_ROWS = r"""
{client} --user=root --host=127.0.0.1 --skip-column-names -e "SELECT CONCAT('SELECT ''',
  table_schema, '.', table_name, ''', COUNT(*) FROM \`', table_schema, '\`.\`', table_name,
  '\`;') FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN
  ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1" \
| {client} --user=root --host=127.0.0.1 --skip-column-names | tr '\t' ' '
"""
PASSWORD_NAME = "password"  # noqa: S105 (the name under which the generated one is kept)


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    image: str
    data_path: str  # mounted on the accessory's named volume
    port: int
    # Variables the container is given, by name; {password} stands for the generated one.
    env: tuple[tuple[str, str], ...]
    # The readiness question, run inside the container with the variables above set.
    ready: tuple[str, ...]
    # A config file written beside the variables (0600) and mounted read-only, when the engine
    # reads its password from a file rather than from its environment.
    config_path: str = ""
    config: str = ""
    command: tuple[str, ...] = ()
    # How links talk to the engine: "postgres", "mysql" or "redis"; "" for no links.
    engine: str = ""
    client: tuple[str, ...] = ()  # the engine's client, reading statements on stdin
    dump: tuple[str, ...] = ()  # a consistent dump of everything, on stdout
    dump_name: str = ""  # the name the dump has in a snapshot
    # A copy restored from a dump: its variables ({password}: the accessory's; {copy}: a name
    # of its own, unique to the copy) and its readiness question when they are not the
    # accessory's own, the client that reads the dump on stdin (any error fails), a command
    # that prints `where rows` per table (live or copy), and what the client is told once a
    # copy's data has become the live data.
    scratch_env: tuple[tuple[str, str], ...] = ()
    scratch_ready: tuple[str, ...] = ()
    restore: tuple[str, ...] = ()
    count_rows: tuple[str, ...] = ()
    promoted: str = ""
    # A query on stdin, in the database named last, printing bare rows (a verification's check).
    query: tuple[str, ...] = ()
    # An engine whose dump is a file it loads as it starts (Redis' RDB): a copy gets the file in
    # its data volume before it boots, with `scratch_config`, and runs `after_restore` once
    # ready.
    loads_dump_at_start: bool = False
    scratch_config: str = ""
    after_restore: tuple[str, ...] = ()

    @property
    def restores(self) -> bool:
        """Whether the panel restores its dumps into a copy."""
        return bool(self.restore) or self.loads_dump_at_start


POSTGRES = Kind(
    key="postgres",
    label="PostgreSQL",
    image="postgres:17",
    data_path="/var/lib/postgresql/data",
    port=5432,
    env=(("POSTGRES_PASSWORD", "{password}"), ("POSTGRES_USER", "postgres")),
    ready=("pg_isready", "--quiet", "--host", "127.0.0.1", "--username", "postgres"),
    engine="postgres",
    client=("psql", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-U", "postgres"),
    dump=("pg_dumpall", "-U", "postgres", "--clean", "--if-exists"),
    dump_name="postgres.sql",
    # The copy's own superuser and database are not in the dump, which replaces everything else
    # (the cluster dump drops and makes `postgres` and every database again). The superuser made
    # first stays for good, so each copy has its own: a later dump of data promoted from a copy
    # names that one, which the next copy (another) can then drop and make.
    scratch_env=(
        ("POSTGRES_PASSWORD", "{password}"),
        ("POSTGRES_USER", "{copy}"),
        ("POSTGRES_DB", "{copy}"),
    ),
    scratch_ready=("sh", "-c", 'exec pg_isready --quiet --host 127.0.0.1 -U "$POSTGRES_USER"'),
    restore=(
        "sh",
        "-c",
        'exec psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
    ),
    count_rows=("sh", "-c", PG_COUNT_ROWS),
    promoted='DROP DATABASE "{copy}";\nALTER ROLE "{copy}" NOLOGIN;\n',
    query=(
        "sh",
        "-c",
        'exec psql -tA --no-psqlrc -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$0"',
    ),
)
MARIADB = Kind(
    key="mariadb",
    label="MariaDB",
    image="mariadb:11.4",
    data_path="/var/lib/mysql",
    port=3306,
    # The clients read MYSQL_PWD, so the password is never on their command line.
    env=(("MARIADB_ROOT_PASSWORD", "{password}"), ("MYSQL_PWD", "{password}")),
    ready=("mariadb-admin", "--user=root", "--host=127.0.0.1", "ping"),
    engine="mysql",
    client=("mariadb", "--user=root", "--host=127.0.0.1"),
    dump=(
        "mariadb-dump",
        "--user=root",
        "--host=127.0.0.1",
        "--all-databases",
        "--single-transaction",
        "--routines",
        "--events",
    ),
    dump_name="mariadb.sql",
    # The dump holds the server's own `mysql` database too: a copy keeps the same password.
    restore=("mariadb", "--user=root", "--host=127.0.0.1"),
    count_rows=("sh", "-c", MYSQL_COUNT_ROWS.replace("{client}", "mariadb")),
    query=("mariadb", "--user=root", "--host=127.0.0.1", "--batch", "--skip-column-names"),
)
MYSQL = Kind(
    key="mysql",
    label="MySQL",
    image="mysql:8.4",
    data_path="/var/lib/mysql",
    port=3306,
    env=(("MYSQL_ROOT_PASSWORD", "{password}"), ("MYSQL_PWD", "{password}")),
    ready=("mysqladmin", "--user=root", "--host=127.0.0.1", "ping"),
    engine="mysql",
    client=("mysql", "--user=root", "--host=127.0.0.1"),
    dump=(
        "mysqldump",
        "--user=root",
        "--host=127.0.0.1",
        "--all-databases",
        "--single-transaction",
        "--routines",
        "--events",
    ),
    dump_name="mysql.sql",
    restore=("mysql", "--user=root", "--host=127.0.0.1"),
    count_rows=("sh", "-c", MYSQL_COUNT_ROWS.replace("{client}", "mysql")),
    query=("mysql", "--user=root", "--host=127.0.0.1", "--batch", "--skip-column-names"),
)
# Persistence on; keys are never evicted (a queue must not lose jobs).
REDIS_CONFIG = "\n".join([
    "bind 0.0.0.0", "protected-mode no", "dir /data", "appendonly yes",
    "maxmemory-policy noeviction", "requirepass {password}", "",
])  # fmt: skip
# Keys that do not expire, per database (`redis.db0 12`): what a restore must bring back.
REDIS_COUNT_KEYS = (
    "redis-cli --no-auth-warning INFO keyspace | "
    "awk -F '[:=,]' '/^db[0-9]+:/ {print \"redis.\" $1, $3 - $5}'"
)
# The append-only file turned on in a restored copy, written from what it loaded, so its data
# directory is laid out as the live one's is.
REDIS_APPEND_ONLY_ON = (
    "redis-cli --no-auth-warning CONFIG SET appendonly yes >/dev/null && "
    "while redis-cli --no-auth-warning INFO persistence | "
    "grep -Eq '^aof_rewrite_(in_progress|scheduled):1'; do sleep 0.2; done && "
    "redis-cli --no-auth-warning INFO persistence | grep -q '^aof_last_bgrewrite_status:ok'"
)
REDIS = Kind(
    key="redis",
    label="Redis",
    image="redis:7",
    data_path="/data",
    port=6379,
    env=(("REDISCLI_AUTH", "{password}"),),
    ready=("redis-cli", "ping"),
    config_path="/etc/redis/panel.conf",
    config=REDIS_CONFIG,
    command=("redis-server", "/etc/redis/panel.conf"),
    engine="redis",
    client=("redis-cli", "-e", "--no-auth-warning"),
    dump=("redis-cli", "--no-auth-warning", "--rdb", "-"),
    dump_name="dump.rdb",
    count_rows=("sh", "-c", REDIS_COUNT_KEYS),
    loads_dump_at_start=True,
    # With its append-only file on, Redis starts empty beside a lone RDB file.
    scratch_config=REDIS_CONFIG.replace("appendonly yes", "appendonly no"),
    after_restore=("sh", "-c", REDIS_APPEND_ONLY_ON),
)
CUSTOM = Kind(
    key="custom",
    label="Any image",
    image="",
    data_path="",
    port=0,
    env=(),
    ready=(),
)
KINDS = {kind.key: kind for kind in (POSTGRES, MARIADB, MYSQL, REDIS, CUSTOM)}


def env_for(kind: Kind, password: str) -> dict[str, str]:
    return {name: value.replace("{password}", password) for name, value in kind.env}


def config_for(kind: Kind, password: str, users: tuple[str, ...] = ()) -> str:
    """The config file; `users` are lines the engine reads too (Redis ACL users of links)."""
    return kind.config.replace("{password}", password) + "".join(f"{line}\n" for line in users)
