#!/bin/sh
# Serves /www; an env file's values are shown at /env for tests that check byte-exact env.
set -eu
if [ "$(cat /variant)" = slow ]; then sleep "$STARTUP_DELAY"; fi
mkdir -p /www/cgi-bin
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nenv\n' > /www/cgi-bin/env
chmod +x /www/cgi-bin/env
echo "app $(cat /variant) listening on $PORT"
trap 'echo "app stopping"; kill "$pid"; wait "$pid"; exit 0' TERM INT
httpd -f -v -p "$PORT" -h /www &
pid=$!
wait "$pid"
