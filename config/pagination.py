"""Pagination of the API's lists: `limit` at most 1000; the long lists (deliveries, request log) by cursor."""

from rest_framework.pagination import CursorPagination, LimitOffsetPagination

MAX_LIMIT = 1000


class LimitOffset(LimitOffsetPagination):
    max_limit = MAX_LIMIT


class NewestFirstCursor(CursorPagination):
    """Newest first by (created_at, id), from a cursor: each page costs an index range scan, however deep; no
    count (counting a subscription's millions of rows is the cost this avoids)."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT
