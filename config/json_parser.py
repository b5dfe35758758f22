"""The API's JSON parser: strict UTF-8 and JSON, bounded depth and numbers, no string PostgreSQL cannot store.

Every body of the API comes through here, read up to `OUTFLOW_MAX_REQUEST_BYTES` (413 past it), so a malformed
one is a 400 `malformed_json` before any view, serializer or service (or PostgreSQL) sees it: invalid UTF-8, lone
surrogates (`"\\ud800"`: no UTF-8 encoding exists), the NUL character (PostgreSQL text and jsonb refuse it),
nesting deeper than `OUTFLOW_MAX_JSON_DEPTH` (the recursive code after the parser would overflow the stack), NaN and
Infinity, integers beyond ±(2^53 − 1) and numbers that overflow a double: a JavaScript consumer (a mapping, a
receiver) would silently change them.
"""

import json
import math

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# Integers a double holds exactly: what JavaScript (mappings, most receivers) reads without changing them.
MAX_SAFE_INTEGER = 2**53 - 1
# A longer number literal cannot be an exactly held integer or a meaningful double; refused before converting.
MAX_NUMBER_CHARS = 64


class RequestTooLarge(APIException):
    # Not config.errors.ApiError: DRF loads this module while rest_framework.views, which that one imports, loads.
    status_code = 413
    default_code = "request_too_large"


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS or abs(value := int(literal)) > MAX_SAFE_INTEGER:
        raise ParseError(f"integers must be between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}")
    return value


def _float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS or not math.isfinite(value := float(literal)):
        raise ParseError("numbers must be finite and fit a 64-bit float")
    return value


def _constant(literal: str):
    raise ParseError(f"{literal} is not JSON")


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "strings must not contain the NUL character (\\u0000)"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "strings must not contain lone surrogates (such as \\ud800)"
    return None


def _path_text(path) -> str:
    parts = []
    while path is not None:
        path, key = path
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(parts)).lstrip(".") or "the body"


def json_value_problem(value, *, max_depth: int) -> str | None:
    """Why a parsed JSON value cannot be taken (depth, strings), naming where, or None. Iterative, so no depth
    overflows it; a path is a linked (parent, key) pair, rendered only for the problem found."""
    stack = [(value, 1, None)]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            if problem := _string_problem(item):
                return f"{problem} (at {_path_text(path)})"
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                return f"JSON nested deeper than {max_depth} levels (at {_path_text(path)})"
            if isinstance(item, dict):
                for key, child in item.items():
                    if problem := _string_problem(key):
                        return f"{problem} (in a key at {_path_text(path)})"
                    stack.append((child, depth + 1, (path, key)))
            else:
                stack.extend((child, depth + 1, (path, index)) for index, child in enumerate(item))
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.OUTFLOW_MAX_REQUEST_BYTES
        # Read no more than the limit allows: a body without a (truthful) length must not fill the memory either.
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"the request body is larger than {limit} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ParseError(f"the body is not valid UTF-8 (at byte {error.start})") from None
        try:
            data = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {settings.OUTFLOW_MAX_JSON_DEPTH} levels") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if problem := json_value_problem(data, max_depth=settings.OUTFLOW_MAX_JSON_DEPTH):
            raise ParseError(problem)
        return data
