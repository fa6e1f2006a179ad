"""Reading an API request's JSON body: bounded, checked for unsafe text, and validated
strictly against the operation's schema (no type coercion, no unknown fields)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.http import HttpRequest
from pydantic import BaseModel, ConfigDict, ValidationError

from panel.api.auth import ApiError
from panel.validators import unsafe_label, unsafe_text_reason

MAX_BODY_BYTES = 64 * 1024

Body = TypeVar("Body", bound="StrictBody")


class StrictBody(BaseModel):
    """Base of every request body: a string is a string, and an unknown field is an error."""

    model_config = ConfigDict(extra="forbid", strict=True)


def parse_body(request: HttpRequest, schema: type[Body]) -> Body:
    """The body as `schema`, or an ApiError naming what is wrong (400, or 413 when too big)."""
    if len(request.body) > MAX_BODY_BYTES:
        raise ApiError(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
    try:
        document = json.loads(request.body) if request.body else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as failure:
        raise ApiError(400, f"The body is not JSON: {failure}.") from failure
    except RecursionError as failure:
        raise ApiError(400, "The body is nested too deeply.") from failure
    if not isinstance(document, dict):
        raise ApiError(400, "The body must be a JSON object.")
    _refuse_unsafe_text(document)
    try:
        return schema.model_validate(document)
    except ValidationError as invalid:
        problems: dict[str, list[str]] = {}
        for problem in invalid.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "body"
            problems.setdefault(name, []).append(problem["msg"])
        fields = {name: " or ".join(texts) for name, texts in problems.items()}
        message = "; ".join(f"{name}: {text}" for name, text in fields.items())
        raise ApiError(400, message, fields=fields) from invalid


def _refuse_unsafe_text(document: dict[str, Any]) -> None:
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:
        path, value = pending.pop()
        texts: list[tuple[str, str]] = []
        if isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                texts.append((path or "body", key))
                pending.append((where, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str):
            texts.append((path, value))
        for where, text in texts:
            reason = unsafe_text_reason(text)
            if reason:
                label = unsafe_label(where)
                raise ApiError(400, f"{label}: this value {reason}.", fields={label: reason})
