"""The JSON encoder of the per-event paths: compact UTF-8, and the standard library's answer where orjson has none."""

import json

from config.json_bytes import json_bytes
from tests.factories import event


def test_an_event_is_encoded_compact_in_utf8_as_the_standard_library_reads_it():
    value = {**event(), "name": "Zoë ✓", "ratio": 0.1, "nested": [{"a": None, "b": True}]}
    encoded = json_bytes(value)
    assert json.loads(encoded) == value
    assert encoded == json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def test_what_orjson_refuses_takes_the_standard_librarys_way():
    assert json_bytes({"n": 2**70}) == b'{"n":1180591620717411303424}'
    assert json_bytes({1: "a"}) == b'{"1":"a"}'
