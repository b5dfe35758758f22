"""The fields export settings remove from an event, and the filter paths that therefore never see a value (pure).

delivery/shaping.py does the removing; tests/subscriptions/test_export_fields.py holds the two to the same fields.
"""

from subscriptions.payload_filters import filter_paths

REQUEST_PAYLOAD = (("requestPayload",),)
CARD_RESPONSE_DATA = (("properties", "values"), ("properties", "submittedValues"))


def export_removed_paths(*, include_request_payload: bool, include_card_response_data: bool) -> dict[tuple, str]:
    """Each path (as its segments) that leaves no event under these settings → the setting's Workbench label."""
    removed = {}
    if not include_request_payload:
        removed.update(dict.fromkeys(REQUEST_PAYLOAD, "Request payload"))
    if not include_card_response_data:
        removed.update(dict.fromkeys(CARD_RESPONSE_DATA, "Card response data"))
    return removed


def filter_export_warnings(spec: dict | None, *, removed: dict[tuple, str]) -> list[str]:
    """One warning per path of a (valid) filter that lies in a removed field, as `export_removed_paths` gives them."""
    if not spec:
        return []
    warnings = []
    for path in filter_paths(spec):
        segments = tuple(path.split("."))
        for prefix, label in removed.items():
            if segments[: len(prefix)] == prefix:
                warnings.append(
                    f"filter: {path} is removed by the export settings ({label} is off), so the filter always"
                    " sees it as missing"
                )
    return warnings
