"""Runbooks to start from: a person picks one, then names their own servers, apps and
accessories in it."""

from __future__ import annotations

STARTERS = {
    "os-upgrade": (
        "OS upgrade window",
        """\
- check: Tell the team the upgrade window starts
  role: admin
- backup: db
- run: sudo -n apt-get update -q && sudo -n DEBIAN_FRONTEND=noninteractive apt-get -y -q upgrade
  on: [web1]
- reboot: web1
  if_required: true
- http: POST https://chat.example.com/hooks/ops
  headers: {Authorization: "Bearer ${CHAT_TOKEN}"}
  body: {"text": "web1 is upgraded and back"}
""",
    ),
    "restore-drill": (
        "Restore drill",
        """\
- backup: db
- check: >-
    Restore the newest backup of db to a scratch copy (Accessories → db → Backups),
    look at the data, then remove the copy
- http: POST https://chat.example.com/hooks/ops
  headers: {Authorization: "Bearer ${CHAT_TOKEN}"}
  body: {"text": "restore drill of db done"}
""",
    ),
    "rotate-ssh-key": (
        "Rotate the panel's SSH key",
        """\
- check: >-
    Generate a new key under Servers → SSH keys, and add its public key to each
    server's authorized_keys
  role: admin
- run: grep -c '^ssh-' ~/.ssh/authorized_keys
  on: [web1]
- check: Switch each server to the new key (its Edit page), then run its Check
  role: admin
- check: Remove the old key's line from each server, then delete the old key in the panel
  role: admin
""",
    ),
}
