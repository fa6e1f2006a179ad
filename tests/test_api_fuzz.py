"""The generated OpenAPI document, fuzzed: every operation gets valid and invalid data
built from its schema, sent with a token of each scope. No answer is a 5xx, each answer
matches what the document says of it, and invalid data is refused."""

from __future__ import annotations

from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from panel.api import tokens
from panel.audit import Actor
from tests.conftest import World

EXAMPLES_PER_OPERATION = 20
NAMES = {"servers": "web-1", "accessories": "db"}


def test_the_api_answers_any_data_as_its_document_says(world: World, client: Client) -> None:
    owner = world.crew.owner
    secrets = [
        tokens.create(Actor.for_user(owner), owner, f"fuzz-{scope}", scope, None)
        for scope in ("read", "deploy", "admin")
    ]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secrets[-1]}"}
    document = client.get("/api/v1/openapi.json", **auth).json()  # type: ignore[arg-type]
    schema = schemathesis.openapi.from_dict(document)
    schema.app = WSGIHandler()
    # As Django's test client does: the test's transaction outlives each request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        fuzzed = _fuzz(world, schema, secrets)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    assert fuzzed == sum(len(methods) for methods in document["paths"].values())


def _fuzz(world: World, schema: Any, secrets: list[str]) -> int:
    fuzzed = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        known = _known_path_values(world, operation)
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def answers_as_documented(case: Any) -> None:
            # Valid-looking data may still name nothing that exists (404) or be refused by
            # a rule the schema cannot say (409): a 5xx, a wrong shape or accepted invalid
            # data fail.
            for secret in secrets:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {secret}"},
                    excluded_checks=[positive_data_acceptance],
                )

        answers_as_documented()
        fuzzed += 1
    return fuzzed


def _known_path_values(world: World, operation: Any) -> dict[str, str]:
    kind = operation.path.split("/")[3]
    values = {**world.values, "name": NAMES.get(kind, world.values["name"])}
    names = [parameter.name for parameter in operation.path_parameters]
    return {name: values[name] for name in names}
