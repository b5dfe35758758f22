"""The Workbench at 1366 px as an editor, a viewer and a member of another environment: the palette, the
confirmations before Show secret, Rotate secret and Pause, the environment switcher, the request log and a delivery.
OUTFLOW_SCREENSHOT_DIR=docs refreshes the screenshots kept in docs/."""

import os
from pathlib import Path

import pytest

from delivery.ingest import events_ingest
from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tenancy.services import environment_create
from tests.factories import event

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(tmp_path) -> Path:
    return Path(os.environ.get("OUTFLOW_SCREENSHOT_DIR", tmp_path))


@pytest.fixture
def sign_in(browser_page, member_sign_in):
    """Each sign-in a person of their own (the last one's cookies gone), on a 1366 px wide screen."""
    browser_page.set_viewport_size({"width": 1366, "height": 800})

    def sign_in(environment, username: str, role: str):
        browser_page.context.clear_cookies()
        return member_sign_in(environment, username, role)

    return sign_in


def _palette_go(page, typed: str) -> None:
    page.keyboard.press("Control+k")
    page.wait_for_selector("#palette[open] #palette-results li a")
    page.keyboard.type(typed)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _no_clipped_column(page) -> None:
    """Nothing in the list is wider than the page at 1366 px."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def busy(environment):
    subscriptions = [
        subscription_create(
            environment=environment,
            name=f"Receiver {index:02d} with a fairly long descriptive name",
            event_types=["card-completed", "card-dismissed"],
            url=f"http://127.0.0.1:9/hooks/a-rather-long-path/that-goes-on/{index}",
        )
        for index in range(12)
    ]
    events_ingest(environment=environment, raw_events=[event(id="evt-journey-1")])
    delivery = Delivery.objects.filter(subscription=subscriptions[0]).get()
    for status, error in [(200, ""), (None, "connection refused: nothing listens at 127.0.0.1:9 (ECONNREFUSED)")]:
        RequestLog.objects.create(
            subscription=subscriptions[0],
            delivery_id=delivery.pk,
            method="POST",
            url=subscriptions[0].url,
            response_status=status,
            error=error,
        )
    return {"subscription": subscriptions[0], "delivery": delivery}


def test_an_editor_goes_by_the_palette_and_is_asked_before_secret_rotate_and_pause(
    sign_in, live_server, environment, busy, shots
):
    subscription = busy["subscription"]
    page = sign_in(environment, "erin", "editor")
    assert page.inner_text("#environment-name") == "acme"
    assert page.locator("text=View site").count() == 0

    _palette_go(page, "webhook credentials")
    assert page.url.endswith("/admin/credentials/credential/")
    _palette_go(page, "new subscription")
    assert page.url.endswith("/admin/subscriptions/subscription/add/")
    _palette_go(page, "request log")
    assert "/admin/requestlog/requestlog/" in page.url
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/")
    _no_clipped_column(page)
    page.screenshot(path=str(shots / "workbench-subscriptions.png"), full_page=True)
    page.keyboard.press("Control+k")
    page.keyboard.type("receiver 00")
    page.wait_for_selector("#palette-results li:only-child")
    page.screenshot(path=str(shots / "workbench-palette.png"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#show-secret")
    assert page.url.endswith(f"/{subscription.pk}/change/")
    page.screenshot(path=str(shots / "workbench-subscription.png"), full_page=True)

    page.click("#show-secret")
    assert "Show the signing secret" in page.inner_text("h1") and subscription.secret not in page.content()
    page.click("#confirm")
    assert page.inner_text("#signing-secret") == subscription.secret

    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/change/")
    page.click("#rotate-secret")
    page.click("#cancel")
    assert Subscription.objects.get(pk=subscription.pk).secret == subscription.secret
    page.click("#rotate-secret")
    page.click("#confirm")
    rotated = Subscription.objects.get(pk=subscription.pk)
    assert rotated.secret != subscription.secret and page.inner_text("#new-secret") == rotated.secret

    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/change/")
    page.click("#pause")
    assert Subscription.objects.get(pk=subscription.pk).status == "active"
    page.click("#confirm")
    page.wait_for_selector("#resume")
    assert Subscription.objects.get(pk=subscription.pk).status == "paused"


def test_the_request_log_and_a_delivery_explain_themselves(sign_in, live_server, environment, busy, shots):
    page = sign_in(environment, "vera", "viewer")
    page.goto(f"{live_server.url}/admin/requestlog/requestlog/")
    # A worker left running by another test may log its own attempts of these deliveries beside the two made here.
    text = page.inner_text("#result_list")
    assert "succeeded 200" in text and "failed connection refused" in text and "evt-journey-1" in text
    assert "Send test" not in text and page.locator("#result_list img[alt=False]").count() == 0
    _no_clipped_column(page)
    page.fill("#searchbar", "evt-journey-1")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    searched = page.inner_text("#result_list")
    assert "succeeded 200" in searched and "(ECONNREFUSED)" in searched
    page.fill("#date-range-from", "2000-01-01")
    page.fill("#date-range-to", "2000-01-02")
    with page.expect_navigation():
        page.click("#date-range-filter input[type=submit]")
    assert page.locator("#result_list tbody tr").count() == 0
    page.goto(f"{live_server.url}/admin/requestlog/requestlog/")
    page.screenshot(path=str(shots / "workbench-request-log.png"))
    page.locator("#result_list tr", has_text="(ECONNREFUSED)").locator("a.delivery-link").click()
    page.wait_for_selector("#delivery-request-log")
    assert str(busy["delivery"].pk) in page.url
    page.screenshot(path=str(shots / "workbench-delivery.png"), full_page=True)


def test_a_viewer_is_offered_nothing_that_would_fail(sign_in, live_server, environment, busy):
    subscription = busy["subscription"]
    page = sign_in(environment, "vic", "viewer")
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/change/")
    assert page.locator("#send-test, #pause, #rotate-secret, #show-secret, #recover, input[name=_save]").count() == 0
    page.keyboard.press("Control+k")
    page.keyboard.type("new")
    page.wait_for_selector("#palette-results li")
    assert "New subscription" not in page.inner_text("#palette-results")
    response = page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/secret/")
    assert response.status == 403 and "Your role does not allow this" in page.inner_text("#content")


def test_a_member_of_another_environment_reaches_none_of_the_new_pages(sign_in, live_server, environment, busy):
    subscription = busy["subscription"]
    other, _ = environment_create(name="globex")
    page = sign_in(other, "gus", "editor")
    base = f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}"
    for path in ["secret/", "rotate-secret/", "pause/", "send-test/", "mapping/"]:
        assert page.goto(f"{base}/{path}").status == 404, path
    assert page.goto(f"{live_server.url}/admin/delivery/delivery/{busy['delivery'].pk}/change/").status == 404
    page.goto(f"{live_server.url}/admin/requestlog/requestlog/?q=evt-journey-1")
    assert page.locator("#result_list tbody tr").count() == 0
    page.goto(f"{live_server.url}/admin/")
    page.keyboard.press("Control+k")
    page.keyboard.type("receiver")
    page.wait_for_selector(".palette-none")
    checked = page.evaluate(
        """async (id) => (await fetch('/admin/subscriptions/subscription/' + id + '/mapping/check/', {method: 'POST',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.cookie.match(/csrftoken=([^;]+)/)[1]},
        body: JSON.stringify({script: 'return event;'})})).status""",
        str(subscription.pk),
    )
    assert checked == 404
    switched = page.request.post(
        f"{live_server.url}/admin/environment/",
        form={"environment": str(environment.pk)},
        headers={"X-CSRFToken": page.context.cookies()[0]["value"], "Referer": live_server.url},
    )
    assert switched.status == 404
