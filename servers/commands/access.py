"""Commands for a login's `authorized_keys`. Pure: argv lists. The login reaches the fixed
scripts as one argument (`$1`), after `validate_posix_user`; the new file comes on stdin.
For another login than the panel's own they run as root through `sudo -n`."""

from __future__ import annotations

# The login's home from the user database; a `.ssh` that is a link is refused (root would
# otherwise write wherever the login points it).
_HOME = """
home=$(getent passwd "$1" | cut -d: -f6)
[ -n "$home" ] || { echo "there is no user $1 on this server" >&2; exit 3; }
[ ! -L "$home/.ssh" ] || { echo "$home/.ssh is a link; not touched" >&2; exit 4; }
"""

READ_SCRIPT = _HOME + 'cat "$home/.ssh/authorized_keys" 2>/dev/null || true\n'

# Written next to the file, then renamed over it: a reader sees the old file or the new one.
WRITE_SCRIPT = (
    _HOME
    + """set -e
group=$(id -gn "$1")
install -d -m 700 -o "$1" -g "$group" "$home/.ssh"
new=$(mktemp "$home/.ssh/.authorized_keys.XXXXXX")
cat > "$new"
chmod 600 "$new"
chown "$1:$group" "$new"
mv -f "$new" "$home/.ssh/authorized_keys"
"""
)


def read_keys(login: str, own: bool) -> list[str]:
    return _as(own, ["sh", "-c", READ_SCRIPT.strip(), "read", login])


def write_keys(login: str, own: bool) -> list[str]:
    return _as(own, ["sh", "-c", WRITE_SCRIPT.strip(), "write", login])


def _as(own: bool, argv: list[str]) -> list[str]:
    return argv if own else ["sudo", "-n", *argv]
