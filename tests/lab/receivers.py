"""Where the lab's notifications arrive: an SMTP sink and a webhook receiver on this machine's
loopback, each a process of its own (so one can be stopped, as a notification service that
is down), writing every message it gets as a file in the inbox.

    python -m tests.lab.receivers smtp PORT INBOX
    python -m tests.lab.receivers http PORT INBOX
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def _keep(inbox: Path, kind: str, message: dict[str, Any]) -> None:
    name = f"{time.time():.6f}-{kind}-{uuid.uuid4().hex[:6]}.json"
    partial = inbox / f".{name}"
    partial.write_text(json.dumps(message))
    partial.rename(inbox / name)


def serve_smtp(port: int, inbox: Path) -> None:
    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            content = envelope.content.decode(errors="replace")
            _keep(inbox, "mail", {"from": envelope.mail_from, "to": envelope.rcpt_tos,
                                  "content": content})  # fmt: skip
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    while True:
        time.sleep(3600)


def serve_http(port: int, inbox: Path) -> None:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode(errors="replace")
            _keep(inbox, "hook", {"path": self.path, "body": body})
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()


if __name__ == "__main__":
    kind, port, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    folder.mkdir(parents=True, exist_ok=True)
    (serve_smtp if kind == "smtp" else serve_http)(port, folder)
