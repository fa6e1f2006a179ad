#!/bin/sh
# One line per URL variable: "NAME: connected (answer)" or "NAME: failed (error)".
printf 'Content-Type: text/plain\r\n\r\n'
ask() {
    url=$1
    case "$url" in
    postgres://*) psql "$url" -tAc 'SELECT 1' ;;
    mysql://*)
        rest=${url#*://}; creds=${rest%%@*}; place=${rest#*@}
        hostport=${place%%/*}; database=${place#*/}
        MYSQL_PWD=${creds#*:} mariadb --user="${creds%%:*}" --host="${hostport%%:*}" \
            --port="${hostport##*:}" --skip-column-names -e 'SELECT 1' "$database" ;;
    redis://*) redis-cli -u "$url" --no-auth-warning -e PING ;;
    *) echo "not a database URL"; return 1 ;;
    esac
}
for name in DATABASE_URL REDIS_URL; do
    eval "url=\${$name:-}"
    [ -n "$url" ] || continue
    if answer=$(ask "$url" 2>&1); then
        echo "$name: connected ($answer)"
    else
        echo "$name: failed ($(echo "$answer" | tr '\n' ' '))"
    fi
done
