"""A person opens the mapping editor from the subscription page, types a script, sees the live result, saves."""

import os
from pathlib import Path

import pytest

from delivery.ingest import events_ingest
from subscriptions.models import Subscription
from subscriptions.services import export_settings_update, subscription_create
from tests.factories import event

pytestmark = pytest.mark.browser


def _type_script(page, script: str) -> None:
    page.click(".CodeMirror")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(script)


def test_editor_previews_as_the_user_types_shows_errors_and_saves(admin_login, live_server, environment, tmp_path):
    # OUTFLOW_SCREENSHOT_DIR=docs refreshes the screenshot kept in docs/.
    screenshot = Path(os.environ.get("OUTFLOW_SCREENSHOT_DIR", tmp_path)) / "mapping-editor.png"
    export_settings_update(environment=environment, include_card_response_data=True)
    subscription = subscription_create(
        environment=environment, name="Mapped sink", event_types=["card-completed"], url="http://127.0.0.1:9/hook"
    )
    events_ingest(environment=environment, raw_events=[event(endUserId="user-42")])
    page = admin_login()
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/change/")
    page.click("#mapping-editor-link")
    page.wait_for_selector("#mapping-example .mapping-path")
    assert "event.properties.values.rating" in page.inner_text("#mapping-example")
    assert '"endUserId": "user-42"' in page.inner_text("#mapping-output")

    _type_script(page, "const who = event.endUserId;\nreturn {who: who, rating: ")
    page.click("text=event.properties.values.rating")
    page.keyboard.type("};")
    page.wait_for_function("document.getElementById('mapping-output').textContent.includes('\"who\"')")
    assert page.inner_text("#mapping-output") == '{\n  "who": "user-42",\n  "rating": 5\n}'

    _type_script(page, "const who = event.endUserId;\nconsole.log('about to fail');\nreturn who.missing.field;")
    page.wait_for_selector("#mapping-error:not([hidden])")
    assert page.inner_text("#mapping-error").startswith("Line 3:")
    assert page.locator(".mapping-error-line").count() == 1

    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("console.log('mapping', event.id);\nreturn {who: event.endUserId};")
    page.wait_for_selector("#mapping-error", state="hidden")
    page.wait_for_function("document.getElementById('mapping-logs').textContent.includes('mapping evt_')")
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    page.click("#mapping-save")
    page.wait_for_function("document.getElementById('mapping-status').textContent === 'Saved.'")
    assert Subscription.objects.get().mapping == "console.log('mapping', event.id);\nreturn {who: event.endUserId};"

    _type_script(page, "return {;")
    page.click("#mapping-save")
    page.wait_for_function("document.getElementById('mapping-status').textContent.startsWith('Not saved')")
    assert Subscription.objects.get().mapping.startswith("console.log")


def test_editor_says_whether_the_example_passes_the_filter(admin_login, live_server, environment):
    subscription = subscription_create(
        environment=environment,
        name="Filtered sink",
        event_types=["card-completed"],
        url="http://127.0.0.1:9/hook",
        filter={"endUserId": {"$startsWith": "vip-"}},
    )
    events_ingest(environment=environment, raw_events=[event(endUserId="user-42")])
    page = admin_login()
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/mapping/")
    page.wait_for_selector("#mapping-filter.mapping-filter-fails")
    assert page.inner_text("#mapping-filter") == "Fails the subscription's filter: an event like this gets no delivery."

    events_ingest(environment=environment, raw_events=[event(endUserId="vip-1")])
    page.reload()
    page.wait_for_selector("#mapping-filter.mapping-filter-passes")
    assert page.inner_text("#mapping-filter") == "Passes the subscription's filter."
