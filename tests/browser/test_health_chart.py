"""The subscription page's 24-hour chart in Chromium: owners, editors and viewers read its first and last hours with
their day and time zone, in the format of the page's other dates, within the chart and apart; another environment's
member reaches no chart."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from requestlog.models import RequestLog
from subscriptions.services import subscription_create
from tenancy.services import environment_create

pytestmark = pytest.mark.browser

ONE_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$")


@pytest.fixture
def subscription(environment):
    subscription = subscription_create(
        environment=environment, name="Charted sink", event_types=["card-completed"], url="http://127.0.0.1:9/hook"
    )
    RequestLog.objects.create(subscription=subscription, method="POST", url="u", response_status=200)
    return subscription


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
def test_the_chart_names_its_first_and_last_hours_with_their_day(
    member_sign_in, live_server, environment, subscription, role
):
    page = member_sign_in(environment, "mo", role)
    page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/change/")
    page.wait_for_selector("svg.outflow-health")
    first = page.text_content("svg.outflow-health .health-first")
    last = page.text_content("svg.outflow-health .health-last")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    assert ONE_FORMAT.match(first) and ONE_FORMAT.match(last)
    assert last == f"{now:%Y-%m-%d %H:%M:%S} UTC" and first == f"{now - timedelta(hours=23):%Y-%m-%d %H:%M:%S} UTC"
    # The page's other dates read the same way.
    assert f"{subscription.created_at:%Y-%m-%d %H:%M:%S} UTC" in page.inner_text("#content")
    boxes = page.evaluate(
        """() => [...document.querySelectorAll("svg.outflow-health text")].map((text) => {
            const box = text.getBBox();
            return [box.x, box.x + box.width];
        })"""
    )
    (first_left, first_right), (last_left, last_right) = boxes
    assert 0 <= first_left and first_right < last_left and last_right <= 480


def test_another_environment_s_member_reaches_no_chart(member_sign_in, live_server, subscription):
    other, _ = environment_create(name="globex")
    page = member_sign_in(other, "gus", "owner")
    response = page.goto(f"{live_server.url}/admin/subscriptions/subscription/{subscription.pk}/change/")
    assert response.status == 404 and "outflow-health" not in page.content() and "Charted sink" not in page.content()
