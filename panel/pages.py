"""Long lists, one page at a time."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PER_PAGE = 50


def page_of(request: HttpRequest, items: QuerySet[Any], per_page: int = PER_PAGE) -> dict[str, Any]:
    """The requested page of `items`, and the query string that keeps the page's filters."""
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    return {"page": page, "query": query.urlencode()}
