"""Text no field accepts is refused at the edge, with the field named, before any view runs."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from deployments.models import App
from panel.models import AuditEvent
from tests.conftest import Crew


def _git_app(crew: Crew) -> App:
    return App.objects.create(
        team=crew.team,
        name="site",
        image="registry.example.com/site",
        git_url="https://git.example.com/acme/site.git",
        git_branch="main",
    )


def test_the_plan_page_refuses_a_version_with_a_nul_byte(crew: Crew, client: Client) -> None:
    app = _git_app(crew)
    client.force_login(crew.viewer)
    response = client.get(reverse("app_plan", args=[app.pk]) + "?version=x%00y")
    assert response.status_code == 400
    assert "“version” contains a control character (U+0000)" in response.content.decode()


def test_a_branch_that_was_not_utf8_is_refused_and_nothing_changes(
    crew: Crew, client: Client
) -> None:
    app = _git_app(crew)
    client.force_login(crew.owner)
    events = AuditEvent.objects.count()
    response = client.generic(
        "POST",
        reverse("app_edit", args=[app.pk]),
        "name=site&git_branch=ma%ED%A0%80in",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and "“git_branch”" in response.content.decode()
    app.refresh_from_db()
    assert app.git_branch == "main" and AuditEvent.objects.count() == events


def test_tabs_and_newlines_are_ordinary_text(crew: Crew, client: Client) -> None:
    client.force_login(crew.owner)
    response = client.get(reverse("app_list") + "?q=a%09b%0Ac")
    assert response.status_code == 200
