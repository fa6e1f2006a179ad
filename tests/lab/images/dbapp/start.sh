#!/bin/sh
set -eu
mkdir -p /www/cgi-bin
echo ok > /www/up
cp /db.sh /www/cgi-bin/db
chmod +x /www/cgi-bin/db
echo "dbapp listening on $PORT"
exec busybox httpd -f -v -p "$PORT" -h /www
