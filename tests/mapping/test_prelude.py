"""What the sandbox's prelude gives a mapping: base64 as browsers have it (btoa, atob), frozen like every built-in."""

import base64
import json
import random

import pytest

from mapping import sandbox
from mapping.sandbox import MappingLimits, MappingRuntimeError

# The environment whose isolate these runs get (tests of isolation between environments name their own).
ENVIRONMENT = "environment-under-test"


def mapping_run(*, script: str, event: dict):
    """A time limit no scheduler hiccup on a loaded machine can reach: these tests are about what the script gets."""
    return sandbox.mapping_run(
        environment_id=ENVIRONMENT, script=script, event=event, limits=MappingLimits(timeout_ms=2000)
    ).output


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 5, 300])
def test_btoa_and_atob_agree_with_pythons_base64_on_latin_1_text(length):
    text = "".join(chr(random.randrange(256)) for _ in range(length))
    output = mapping_run(
        script="return {encoded: btoa(event.text), decoded: atob(event.base64)};",
        event={"text": text, "base64": base64.b64encode(text.encode("latin-1")).decode()},
    )
    assert output == {"encoded": base64.b64encode(text.encode("latin-1")).decode(), "decoded": text}


def test_utf_8_json_goes_through_encode_uri_component_into_base64():
    event = {"id": "evt_1", "endUserId": "ユーザー-ü", "emoji": "🎉"}
    encoded = mapping_run(script="return btoa(unescape(encodeURIComponent(JSON.stringify(event))));", event=event)
    assert json.loads(base64.b64decode(encoded).decode("utf-8")) == event


def test_btoa_refuses_text_outside_latin_1_saying_how_to_encode_it():
    with pytest.raises(MappingRuntimeError, match=r"btoa takes Latin-1 text.*unescape\(encodeURIComponent"):
        mapping_run(script="return btoa('日本');", event={})


@pytest.mark.parametrize("given", ["YQ=", "Y", "YW*j", "YWJjZA==="])
def test_atob_refuses_what_is_not_base64(given):
    with pytest.raises(MappingRuntimeError, match="atob: the string is not valid base64"):
        mapping_run(script=f"return atob({json.dumps(given)});", event={})


def test_atob_skips_whitespace_and_takes_missing_padding():
    assert mapping_run(script="return [atob(' YW\\nJj '), atob('YQ'), atob('YWI=')];", event={}) == ["abc", "a", "ab"]


def test_a_200_kb_event_encodes_whole():
    event = {"blob": "x" * 200_000}
    script = "return btoa(unescape(encodeURIComponent(JSON.stringify(event)))).length;"
    assert mapping_run(script=script, event=event) == len(
        base64.b64encode(json.dumps(event, separators=(",", ":")).encode())
    )


def test_a_run_cannot_replace_btoa_for_the_next_one():
    replaced = mapping_run(
        script="try { btoa = () => 'stolen'; } catch (e) {} "
        "try { Object.defineProperty(globalThis, 'btoa', {value: () => 'stolen'}); } catch (e) {} "
        "return [btoa('a'), Object.isFrozen(btoa), Object.isFrozen(atob)];",
        event={},
    )
    assert replaced == ["YQ==", True, True]
    assert mapping_run(script="return btoa('a');", event={}) == "YQ=="
