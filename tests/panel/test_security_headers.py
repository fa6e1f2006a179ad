"""A strict Content-Security-Policy on every page, templates that need nothing looser, and
pages that show a secret once kept out of every cache."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from deployments.models import App
from tests.conftest import Crew

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_CODE = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"<style", re.I),
    re.compile(r"javascript:", re.I),
    re.compile(r"\shx-on", re.I),
]


def test_pages_are_sent_with_a_strict_policy(client: Client, db: None) -> None:
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"
    assert "unsafe" not in policy


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=str)
def test_no_template_holds_inline_code_or_styles(template: Path) -> None:
    text = template.read_text()
    for pattern in INLINE_CODE:
        assert not pattern.search(text), f"{template.name}: {pattern.pattern}"


def test_the_token_page_is_never_cached(crew: Crew, client: Client) -> None:
    client.force_login(crew.deployer)
    response = client.post(reverse("token_list"), {"name": "ci", "scope": "deploy"})
    assert 'id="token-secret"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in client.get(reverse("token_list"))["Cache-Control"]


def test_the_environment_and_key_pages_are_never_cached(crew: Crew, client: Client) -> None:
    app = App.objects.create(team=crew.team, name="shop", image="registry.example.com/shop")
    client.force_login(crew.admin)
    assert "no-store" in client.get(reverse("app_env", args=[app.pk]))["Cache-Control"]
    assert "no-store" in client.get(reverse("key_new"))["Cache-Control"]
