"""The current team is read on first use only: a request that never asks (a health check, a
log stream) costs no query for it."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.conftest import Crew


def test_a_signed_in_health_check_queries_nothing_but_the_database_check(
    crew: Crew, client: Client, django_assert_num_queries: Any
) -> None:
    client.force_login(crew.viewer)
    with django_assert_num_queries(1):
        assert client.get(reverse("up")).status_code == 200


def test_pages_still_know_the_team(crew: Crew, client: Client) -> None:
    client.force_login(crew.viewer)
    assert b"Acme" in client.get(reverse("dashboard")).content
