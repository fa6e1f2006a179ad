"""Hostile API bodies: every answer is JSON with the right status, and nothing is deployed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from deployments.models import App, Release
from panel.models import Job
from tests.conftest import Crew
from tests.deployments.test_api import _token


def _raw(client: Client, url: str, secret: str, body: bytes) -> Any:
    return client.generic(
        "POST",
        url,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def _deploy(client: Client, secret: str, body: bytes) -> Any:
    return _raw(client, "/api/v1/apps/shop/deploy", secret, body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tag": True}, "tag"),
        ({"tag": None}, "tag"),
        ({"tag": []}, "tag"),
        ({"tag": {}}, "tag"),
        ({"tag": 7}, "tag"),
        ({"tag": "v1", "colour": "red"}, "colour"),
        ({"ref": "main"}, "ref"),
        ({"tag": "x\u0000y"}, "tag"),
        ({"tag": "x\ud800y"}, "tag"),
        ({"tag": "v1\u001b[31m"}, "tag"),
    ],
)
def test_a_deploy_body_of_the_wrong_shape_is_refused_with_the_field_named(
    crew: Crew, client: Client, app: App, body: dict[str, Any], field: str
) -> None:
    secret = _token(crew.deployer, "deploy")
    response = _deploy(client, secret, json.dumps(body).encode())
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert field in response.json()["fields"], response.json()
    assert not Job.objects.exists() and not Release.objects.exists()


def test_a_rollback_wants_a_release_number_or_version_and_nothing_else(
    crew: Crew, client: Client, app: App
) -> None:
    secret = _token(crew.deployer, "deploy")
    url = "/api/v1/apps/shop/rollback"
    for body in [{}, {"release": True}, {"release": None}, {"release": [1]}]:
        response = _raw(client, url, secret, json.dumps(body).encode())
        assert response.status_code == 400 and "release" in response.json()["fields"]
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"[" * 50_000, 400, "nested too deeply"),
        (b"[" * 100_000, 413, "larger than"),
        (b'{"tag": ' + b"[" * 500 + b"]" * 500 + b"}", 400, "tag"),
        (b"{not json", 400, "not JSON"),
        (b"\xff\xfe", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"tag": "' + b"v" * (10 * 1024 * 1024) + b'"}', 413, "too large"),
        (b'{"tag": "' + b"v" * (100 * 1024) + b'"}', 413, "larger than"),
    ],
    ids=["deep", "deep-and-large", "deep-in-field", "broken", "not-utf8", "array", "10MB", "100KB"],
)
def test_bodies_that_cannot_be_read_get_a_json_error(
    crew: Crew, client: Client, app: App, body: bytes, status: int, words: str
) -> None:
    secret = _token(crew.deployer, "deploy")
    response = _deploy(client, secret, body)
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert words in response.content.decode()
    assert not Job.objects.exists()


def test_an_unknown_api_address_answers_json(crew: Crew, client: Client) -> None:
    secret = _token(crew.deployer, "deploy")
    response = client.get("/api/v1/nothing-here", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_an_app_name_with_a_nul_byte_is_refused_as_json(crew: Crew, client: Client) -> None:
    secret = _token(crew.deployer, "deploy")
    response = client.get("/api/v1/apps/sh%00op", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 400 and "control character" in response.json()["error"]


def test_an_image_app_still_deploys_with_a_plain_tag(
    crew: Crew, client: Client, app: App, django_capture_on_commit_callbacks: Any
) -> None:
    secret = _token(crew.deployer, "deploy")
    with django_capture_on_commit_callbacks(execute=False):
        response = _deploy(client, secret, b'{"tag": "v2"}')
    assert response.status_code == 202 and Release.objects.get().version == "v2"
