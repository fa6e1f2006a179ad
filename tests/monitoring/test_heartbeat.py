"""The dead-man's switch: asked after every round; a switch that is down or a URL that is not
http(s) never fails the round."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from monitoring.models import Round
from monitoring.operations.collect import collect_round, heartbeat


@pytest.fixture
def switch() -> Iterator[tuple[str, list[str]]]:
    asked: list[str] = []

    class Switch(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Switch)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/ping/abc", asked
    server.shutdown()


def test_each_round_asks_the_switch(db: None, switch: tuple[str, list[str]]) -> None:
    url, asked = switch
    with override_settings(PANEL_HEARTBEAT_URL=url):
        collect_round()
        collect_round()
    assert asked == ["/ping/abc", "/ping/abc"] and Round.objects.count() == 2


def test_a_switch_that_is_down_or_not_http_is_only_said() -> None:
    assert heartbeat("http://127.0.0.1:9/ping") is False
    assert heartbeat("file:///etc/passwd") is False
