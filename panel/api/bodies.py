"""Request bodies: strict (a string is a string, an unknown field is an error), free of text
no field accepts, and checked by the same forms the pages use."""

from __future__ import annotations

from typing import Any

from django import forms
from ninja import Schema
from pydantic import ConfigDict, field_validator

from panel.api.auth import ApiError
from panel.validators import unsafe_text_reason


class StrictBody(Schema):
    """Base of every request body."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_unsafe_text(cls, value: Any) -> Any:
        pending = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, str) and (reason := unsafe_text_reason(item)):
                raise ValueError(f"this value {reason}")
        return value


def valid(form: forms.BaseForm) -> dict[str, Any]:
    """The form's cleaned data, or a 400 naming each field's problem as the page would."""
    if form.is_valid():
        return form.cleaned_data
    fields = {
        name if name != "__all__" else "body": " ".join(str(text) for text in texts)
        for name, texts in form.errors.items()
    }
    message = "; ".join(f"{name}: {text}" for name, text in fields.items())
    raise ApiError(400, message, fields)
