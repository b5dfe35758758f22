"""What of a request or response body may be stored in the request log."""

from requestlog.redaction import REDACTED, stored_body


def test_body_is_redacted_unless_kept():
    assert stored_body(b'{"password": "hunter2"}', keep=False) == REDACTED


def test_empty_body_is_stored_as_empty_when_not_kept():
    assert stored_body(b"", keep=False) == ""


def test_kept_body_is_stored_as_text():
    assert stored_body(b'{"ok": true}', keep=True) == '{"ok": true}'


def test_kept_body_that_is_not_utf8_is_stored_with_replacement_characters():
    assert stored_body(b"ok\xff", keep=True) == "ok\ufffd"
