#!/bin/sh
# First start: make the data directory, then set root's password (from MARIADB_ROOT_PASSWORD,
# read over stdin by the client) for local and network logins, on a server not on the network.
set -eu
datadir=/var/lib/mysql
mkdir -p "$datadir" /run/mysqld
chown mysql:mysql "$datadir" /run/mysqld
if [ ! -d "$datadir/mysql" ]; then
    MARIADB_ROOT_PASSWORD="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:?set MARIADB_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD}}"
    mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db >/dev/null
    mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock &
    pid=$!
    for _ in $(seq 60); do
        mariadb-admin --socket=/run/mysqld/init.sock --user=root ping >/dev/null 2>&1 && break
        sleep 0.5
    done
    printf "ALTER USER 'root'@'localhost' IDENTIFIED BY '%s';\nCREATE USER 'root'@'%%' IDENTIFIED BY '%s';\nGRANT ALL ON *.* TO 'root'@'%%' WITH GRANT OPTION;\nFLUSH PRIVILEGES;\n" \
        "$MARIADB_ROOT_PASSWORD" "$MARIADB_ROOT_PASSWORD" \
        | mariadb --socket=/run/mysqld/init.sock --user=root
    kill "$pid"
    wait "$pid" || true
fi
exec "$@"
