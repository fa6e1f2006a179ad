"""Uptime checks: a probe as a visitor's GET (up on 2xx/3xx, down on 5xx, silence or a refused
connection); two failures in a row open an alert and an answer resolves it; app domains get
checks of their own; addresses are validated and only admins add or remove them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from deployments.models import App
from monitoring.models import Alert, AlertKind, UptimeCheck, UptimeResult
from monitoring.operations.uptime import check_all, probe
from monitoring.validators import validate_check_url
from tests.conftest import Crew


@pytest.fixture
def site() -> Iterator[tuple[str, list[int]]]:
    """A local site whose answer the test sets (the list's last status)."""
    answers = [200]

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answers[-1])
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/health?full=1", answers
    server.shutdown()


def test_a_probe_is_up_on_2xx_and_3xx_only(site: tuple[str, list[int]]) -> None:
    url, answers = site
    assert asyncio.run(probe(url)).ok
    answers.append(302)
    assert asyncio.run(probe(url)).status == 302
    answers.append(503)
    down = asyncio.run(probe(url))
    assert not down.ok and down.status == 503 and "503" in down.error
    refused = asyncio.run(probe("http://127.0.0.1:9/"))
    assert not refused.ok and refused.status is None and refused.error


def test_two_failures_open_an_alert_and_an_answer_resolves_it(
    crew: Crew, site: tuple[str, list[int]]
) -> None:
    url, answers = site
    UptimeCheck.objects.create(team=crew.team, url=url)
    assert check_all() == 1
    answers.append(500)
    check_all()
    assert not Alert.objects.exists()  # one failure is not yet down
    check_all()
    alert = Alert.objects.get(kind=AlertKind.UPTIME)
    assert alert.title == f"{url} is down" and "2 checks in a row" in alert.detail
    answers.append(200)
    check_all()
    alert.refresh_from_db()
    assert alert.resolved_at is not None and UptimeResult.objects.count() == 4


def test_each_app_domain_gets_a_check_that_follows_the_app(crew: Crew) -> None:
    app = App.objects.create(team=crew.team, name="shop", image="shop",
                             domains=["shop.invalid", "www.shop.invalid"], tls=True)  # fmt: skip
    check_all()
    assert sorted(UptimeCheck.objects.values_list("url", flat=True)) == [
        "https://shop.invalid/", "https://www.shop.invalid/"
    ]  # fmt: skip
    app.domains = ["shop.invalid"]
    app.save()
    check_all()
    assert list(UptimeCheck.objects.values_list("url", flat=True)) == ["https://shop.invalid/"]


@pytest.mark.parametrize(
    "url",
    ["ftp://x.example.com/", "http://user:pw@x.example.com/", "http://x.example.com/a b",
     "http://x.example.com/#top", "http://-bad-/", "javascript:alert(1)",
     "http://x.example.com/'onmouseover", "http://x.example.com:99999/"],
)  # fmt: skip
def test_addresses_that_are_not_plain_http_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        validate_check_url(url)


def test_admins_add_and_remove_checks_and_deployers_only_see(crew: Crew, client: Client) -> None:
    url = reverse("uptime_list")
    client.force_login(crew.deployer)
    assert client.post(url, {"url": "https://status.example.com/"}).status_code == 403
    client.force_login(crew.admin)
    client.post(url, {"url": "https://status.example.com/"})
    check = UptimeCheck.objects.get()
    assert "status.example.com" in client.get(url).content.decode()
    client.post(reverse("uptime_remove", args=[check.pk]))
    assert not UptimeCheck.objects.exists()
