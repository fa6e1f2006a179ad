"""Cursor pagination, newest first: a page of `results` and the `next` cursor (null on the
last page). A cursor stays valid while rows are added."""

from __future__ import annotations

import base64
import binascii
import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase, paginate

from panel.api.auth import ApiError

DEFAULT_LIMIT = 50
View = TypeVar("View", bound=Callable[..., Any])
MAX_LIMIT = 200


class Cursor(PaginationBase):
    """Rows in the order of `moment` (a time field), newest first; the primary key breaks
    ties. The cursor holds the last row's moment and key."""

    class Input(Schema):
        cursor: str | None = Field(None, max_length=200, description="`next` of the page before")
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    class Output(Schema):
        results: list[Any]
        next: str | None

    items_attribute = "results"

    def __init__(self, *, moment: str = "created_at", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.moment = moment

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        rows = queryset.order_by(f"-{self.moment}", "-pk")
        if pagination.cursor:
            at, text = _decode(pagination.cursor)
            try:
                pk = queryset.model._meta.pk.to_python(text)
            except ValidationError as invalid:
                raise _bad_cursor() from invalid
            earlier = Q(**{f"{self.moment}__lt": at}) | Q(**{self.moment: at, "pk__lt": pk})
            rows = rows.filter(earlier)
        page = list(rows[: pagination.limit + 1])
        more = len(page) > pagination.limit
        page = page[: pagination.limit]
        last = page[-1] if more else None
        after = _encode(getattr(last, self.moment), last.pk) if last is not None else None
        return {"results": page, "next": after}


def _encode(at: datetime, pk: Any) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, pk = text.partition("|")
        moment = datetime.fromisoformat(at)
        if pk and moment.tzinfo is not None and pk.replace("-", "").isalnum():
            return moment, pk
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise _bad_cursor()


def _bad_cursor() -> ApiError:
    return ApiError(400, "cursor: use the `next` of the page before.", {"cursor": "not valid"})


def paged(**options: Any) -> Callable[[View], View]:
    """`paginate(Cursor)` for a view whose annotations are strings of its own module."""

    def decorate(view: View) -> View:
        wrapped = paginate(Cursor, **options)(view)
        wrapped.__signature__ = inspect.signature(view, eval_str=True)
        return cast(View, wrapped)

    return decorate
