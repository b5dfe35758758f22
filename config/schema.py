"""OpenAPI schema additions (a drf-spectacular hook): the API key, and the error envelope under every error status
an operation can answer."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "A stable machine code, e.g. invalid, not_found."},
                "message": {"type": "string"},
                "fields": {"type": "object", "description": "Problems per field, where the error is about fields."},
            },
        }
    },
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}}
_BODY_METHODS = {"post", "put", "patch"}
_WRITE_METHODS = _BODY_METHODS | {"delete"}
_DESCRIPTIONS = {
    "400": "Invalid input: malformed JSON, wrong types, values out of range, unknown query values.",
    "401": "No API key, or one that is not valid.",
    "403": "Outside the API key's scope (code `scope`): an ingest key only posts events, a read key only reads.",
    "404": "No such object in the key's environment.",
    "409": "In conflict with the current state (a limit reached, a credential in use, a paused subscription).",
    "413": "The body or an event is larger than the limits.",
    "415": "The body is not JSON.",
    "429": "Past the environment's rate or concurrency limits.",
    "503": "The database is unreachable, or the server is busy with other environments' calls.",
}


def _statuses(path: str, method: str) -> list[str]:
    statuses = ["400", "401", "403", "429", "503"]
    if "{" in path:
        statuses.append("404")
    if method in _WRITE_METHODS:
        statuses.append("409")
    if method in _BODY_METHODS:
        statuses.extend(["413", "415"])
    return sorted(statuses)


def error_responses(result: dict, generator, request, public) -> dict:
    """Add the shared error envelope under every error status an operation can answer (what it documents already
    is kept)."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components.setdefault("securitySchemes", {})["ApiKey"] = {"type": "http", "scheme": "bearer"}
    result["security"] = [{"ApiKey": []}]
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in _statuses(path, method):
                response = {
                    "description": _DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
                if status in {"429", "503"}:
                    response["headers"] = _RETRY_AFTER
                operation["responses"].setdefault(status, response)
    return result
