"""`Idempotency-Key` on the POSTs that start jobs: a retry with the same key and request gets
the first answer back and starts nothing; the same key with another request is refused."""

from __future__ import annotations

import functools
import hashlib
import inspect
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from ninja.responses import Status

from panel.api.auth import ApiError
from panel.models import IdempotentRequest
from panel.requests import ApiRequest

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=2)  # a worker that died while answering
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,100}")

View = TypeVar("View", bound=Callable[..., Status[Any]])


def idempotent(view: View) -> View:
    @functools.wraps(view)
    def answer_once(request: ApiRequest, *args: Any, **kwargs: Any) -> Status[Any]:
        key = request.headers.get(HEADER)
        if key is None:
            return view(request, *args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            problem = "1 to 100 letters, digits, dots, colons, dashes or underscores"
            raise ApiError(400, f"{HEADER}: {problem}.", {HEADER: problem})
        row, earlier = _claim(request, key)
        if earlier is not None:
            return earlier
        try:
            answer = view(request, *args, **kwargs)
        except BaseException:
            row.delete()
            raise
        row.status, row.answer = answer.status_code, _plain(answer.value)
        row.save(update_fields=["status", "answer"])
        return answer

    # The operation's parameters are read from the signature; resolved here, where the
    # view's own module is known.
    answer_once.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
    return answer_once  # type: ignore[return-value]


def _claim(request: ApiRequest, key: str) -> tuple[IdempotentRequest, Status[Any] | None]:
    token, now = request.api_token, timezone.now()
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.path.encode(), request.body])  # type: ignore[union-attr]
    ).hexdigest()
    IdempotentRequest.objects.filter(token=token, created_at__lt=now - KEPT_FOR).delete()
    IdempotentRequest.objects.filter(
        token=token, key=key, status__isnull=True, created_at__lt=now - ABANDONED_AFTER
    ).delete()
    try:
        with transaction.atomic():
            row = IdempotentRequest.objects.create(token=token, key=key, fingerprint=fingerprint)
        return row, None
    except IntegrityError:
        found = IdempotentRequest.objects.filter(token=token, key=key).first()
        if found is None:
            raise ApiError(409, f"A request with this {HEADER} was just answered; retry.") from None
        row = found
    if row.fingerprint != fingerprint:
        raise ApiError(422, f"This {HEADER} was sent with another request; use a new key.")
    if row.status is None:
        raise ApiError(409, f"A request with this {HEADER} is still being answered; retry.")
    return row, Status(row.status, row.answer)


def _plain(payload: Any) -> Any:
    return payload.model_dump(mode="json") if hasattr(payload, "model_dump") else payload
