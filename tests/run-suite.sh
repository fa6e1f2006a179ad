#!/bin/sh
# The whole suite: everything on SQLite (with the lab and the browser), then the tests that
# do not need the lab again on PostgreSQL. Brings the lab up if it is down, and takes it
# down again at the end only in that case.
set -u
python=.venv/bin/python
started_lab=""
if ! $python -m tests.lab status >/dev/null 2>&1; then
    $python -m tests.lab up || exit 1
    started_lab=yes
fi
status=0
$python -m pytest "$@" || status=$?
if [ "$status" = 0 ]; then
    echo "== The same tests on PostgreSQL (lab and browser tests ran above)"
    DATABASE_URL=postgres://panel@127.0.0.1:5433/postgres \
        $python -m pytest -q -m "not lab and not browser" -p no:cacheprovider || status=$?
fi
[ -n "$started_lab" ] && $python -m tests.lab down
exit "$status"
