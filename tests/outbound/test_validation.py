"""Rules for outgoing URLs and custom headers: a subscription's content-type only as a JSON media type."""

import pytest

from outbound.validation import header_errors

ACCEPTED = [
    "application/json",
    "application/json; charset=utf-8",
    'Application/JSON;charset="UTF-8"',
    "application/cloudevents+json",
    "application/vnd.acme.event.v2+json",
    "application/x-amz-json-1.0",
    "application/x-amz-json-1.1",
]
REFUSED = [
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/x-amz-json-1.2",
    "application/json; charset=latin-1",
    "application/json; boundary=x",
    "application/+json",
    "text/json",
    "",
]


@pytest.mark.parametrize("value", ACCEPTED)
def test_json_media_types_are_accepted_as_content_type(value):
    assert header_errors({"Content-Type": value}) == []


@pytest.mark.parametrize("value", REFUSED)
def test_any_other_content_type_is_refused_saying_what_is_allowed(value):
    [message] = header_errors({"content-type": value})
    assert message.startswith("'content-type' must be a JSON media type (application/json, application/*+json, ")
    assert "application/x-amz-json-1.0, application/x-amz-json-1.1" in message


def test_the_send_request_step_takes_any_content_type():
    assert header_errors({"Content-Type": "text/plain"}, reserved_prefixes=(), json_content_type=False) == []
