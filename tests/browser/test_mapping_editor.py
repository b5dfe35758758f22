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


def _output_has(page, text: str) -> None:
    page.wait_for_function(f"document.getElementById('mapping-output').textContent.includes({text!r})")


def test_an_editor_picks_each_type_pastes_an_event_checks_all_and_is_asked_before_leaving(
    live_server, member_sign_in, environment, tmp_path
):
    screenshot = Path(os.environ.get("OUTFLOW_SCREENSHOT_DIR", tmp_path)) / "workbench-mapping-check.png"
    subscription = subscription_create(
        environment=environment,
        name="Card feed",
        event_types=["card-completed", "card-dismissed"],
        url="http://127.0.0.1:9/hook",
        mapping="return {card: event.cardContext.cardTemplateId};",
    )
    # The odd real event of issue 25: a card-dismissed without its cardContext.
    events_ingest(environment=environment, raw_events=[event("card-dismissed", id="odd-one", cardContext=None)])
    page = member_sign_in(environment, "erin", "editor")
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/mapping/")
    _output_has(page, "card-feedback-7")
    assert "No card-completed event received yet" in page.inner_text("#mapping-source-note")

    page.select_option("#mapping-source", "latest:card-dismissed")
    page.wait_for_selector("#mapping-error:not([hidden])")
    assert "odd-one" in page.inner_text("#mapping-source-note")
    assert page.inner_text("#mapping-error").startswith("Line 1:")
    page.select_option("#mapping-source", "example:card-dismissed")
    page.wait_for_selector("#mapping-error", state="hidden")
    _output_has(page, "card-upgrade-2")

    page.select_option("#mapping-source", "pasted")
    page.fill("#mapping-pasted", '{"id": "p1", "cardContext": {"cardTemplateId": "pasted-card"}}')
    _output_has(page, "pasted-card")

    page.click("#mapping-check")
    page.wait_for_selector("#mapping-check-results li")
    failed = page.locator("#mapping-check-results .mapping-check-failed")
    assert failed.count() == 1 and "card-dismissed (latest real event odd-one) fails at line 1" in failed.inner_text()
    assert page.locator("#mapping-check-results .mapping-check-passed").count() == 2
    page.screenshot(path=str(screenshot), full_page=True)

    _type_script(page, "return {card: event.cardContext ? event.cardContext.cardTemplateId : null};")
    assert page.inner_text("#mapping-status") == "Unsaved changes"
    page.click("#mapping-check")
    page.wait_for_function("document.getElementById('mapping-status').textContent === 'Runs on all 3 events.'")
    assert page.locator("#mapping-check-results .mapping-check-failed").count() == 0

    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.click("text=Card feed")
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"] and "/mapping/" in page.url
    page.click("#mapping-save")
    page.wait_for_function("document.getElementById('mapping-status').textContent === 'Saved.'")
    assert "cardContext ?" in Subscription.objects.get().mapping
    page.click("text=Card feed")
    page.wait_for_selector("#show-secret")
    assert asked == ["beforeunload"]


def test_a_viewer_reads_and_tries_the_mapping_but_cannot_change_it(live_server, member_sign_in, environment):
    subscription = subscription_create(
        environment=environment,
        name="Card feed",
        event_types=["card-completed"],
        url="http://127.0.0.1:9/hook",
        mapping="return event.id;",
    )
    page = member_sign_in(environment, "vera", "viewer")
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/mapping/")
    page.wait_for_selector("#mapping-example .mapping-path")
    assert page.locator("#mapping-save").count() == 0
    page.click(".CodeMirror")
    page.keyboard.type("changed;")
    assert "changed" not in page.inner_text(".CodeMirror")
    page.click("#mapping-check")
    page.wait_for_selector("#mapping-check-results .mapping-check-passed")
    assert Subscription.objects.get().mapping == "return event.id;"
