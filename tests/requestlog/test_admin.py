"""The Workbench's request log: one subscription's entries newest first, outcome and test filters, redacted entries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outbound.masking import MASK
from requestlog.models import RequestLog
from subscriptions.services import subscription_create
from tests.factories import member_client

LIST = "/admin/requestlog/requestlog/"


@pytest.fixture
def viewer(environment):
    return member_client(environment, "vi", role="viewer")


@pytest.fixture
def entries(environment):
    sink = subscription_create(
        environment=environment, name="Sink", event_types=["card-completed"], url="http://127.0.0.1:9/a"
    )
    other = subscription_create(
        environment=environment, name="Other", event_types=["card-completed"], url="http://127.0.0.1:9/b"
    )
    now = timezone.now()
    made = {}
    for name, subscription, status, is_test, minutes in [
        ("old_ok", sink, 200, False, 30),
        ("new_fail", sink, 500, False, 10),
        ("test", sink, 204, True, 5),
        ("other", other, 200, False, 1),
    ]:
        entry = RequestLog.objects.create(
            subscription=subscription,
            method="POST",
            url=subscription.url,
            is_test=is_test,
            response_status=status,
            request_headers={"webhook-signature": MASK, "x-team": "growth"},
            request_body='{"test":true}' if is_test else "[redacted]",
            request_body_size=13,
        )
        RequestLog.objects.filter(pk=entry.pk).update(created_at=now - timedelta(minutes=minutes))
        made[name] = entry
    made["sink"] = sink
    return made


def _row_ids(response) -> list[int]:
    return [entry.pk for entry in response.context["cl"].result_list]


def test_opened_from_a_subscription_it_shows_its_entries_newest_first(viewer, entries):
    response = viewer.get(f"{LIST}?subscription__id__exact={entries['sink'].pk}")
    assert _row_ids(response) == [entries["test"].pk, entries["new_fail"].pk, entries["old_ok"].pk]
    assert _row_ids(viewer.get(LIST))[0] == entries["other"].pk


def test_outcome_and_test_filters(viewer, entries):
    sink = f"subscription__id__exact={entries['sink'].pk}"
    assert _row_ids(viewer.get(f"{LIST}?{sink}&outcome=failure")) == [entries["new_fail"].pk]
    assert _row_ids(viewer.get(f"{LIST}?{sink}&outcome=success")) == [entries["test"].pk, entries["old_ok"].pk]
    assert _row_ids(viewer.get(f"{LIST}?{sink}&test=true")) == [entries["test"].pk]
    assert _row_ids(viewer.get(f"{LIST}?{sink}&test=false&outcome=success")) == [entries["old_ok"].pk]


def test_an_entry_shows_target_request_and_response_redacted_and_read_only(viewer, entries):
    page = viewer.get(f"{LIST}{entries['new_fail'].pk}/change/")
    text = page.content.decode()
    assert "POST http://127.0.0.1:9/a" in text and "[redacted]" in text and MASK in text and "growth" in text
    assert 'name="_save"' not in text
    assert viewer.get(f"{LIST}{entries['new_fail'].pk}/delete/").status_code == 403


def test_each_row_says_its_outcome_with_the_error_and_marks_only_tests(viewer, entries):
    RequestLog.objects.filter(pk=entries["old_ok"].pk).update(response_status=None, error="connection refused")
    text = viewer.get(f"{LIST}?subscription__id__exact={entries['sink'].pk}").content.decode()
    assert text.count('class="outcome outcome-success"') == 1 and text.count('class="outcome outcome-failure"') == 2
    assert "connection refused" in text and "answered 500" in text
    assert text.count('<td class="field-kind">Send test</td>') == 1
    assert text.count('<td class="field-kind">Delivery</td>') == 2
    assert "icon-no.svg" not in text


def test_a_date_range_keeps_the_days_given_in_utc(viewer, entries):
    RequestLog.objects.filter(pk=entries["old_ok"].pk).update(created_at="2026-03-01T23:59:00Z")
    RequestLog.objects.filter(pk=entries["new_fail"].pk).update(created_at="2026-03-02T00:00:00Z")
    RequestLog.objects.filter(pk=entries["test"].pk).update(created_at="2026-03-04T00:00:00Z")
    sink = f"subscription__id__exact={entries['sink'].pk}"
    assert _row_ids(viewer.get(f"{LIST}?{sink}&from=2026-03-02&to=2026-03-03")) == [entries["new_fail"].pk]
    assert _row_ids(viewer.get(f"{LIST}?{sink}&to=2026-03-01")) == [entries["old_ok"].pk]
    page = viewer.get(f"{LIST}?{sink}&from=2026-03-02").content.decode()
    assert f'<input type="hidden" name="subscription__id__exact" value="{entries["sink"].pk}">' in page
    assert viewer.get(f"{LIST}?from=yesterday").status_code in (200, 302)
    assert "?e=1" in viewer.get(f"{LIST}?from=yesterday")["Location"]


def test_search_finds_the_entries_of_an_event_or_a_delivery_and_links_the_delivery(viewer, environment):
    from delivery.ingest import events_ingest
    from delivery.models import Delivery
    from tests.factories import event

    subscription = subscription_create(
        environment=environment, name="Sink", event_types=["card-completed"], url="http://127.0.0.1:9/a"
    )
    events_ingest(environment=environment, raw_events=[event(id="evt-wanted"), event(id="evt-other")])
    wanted = Delivery.objects.get(event__event_id="evt-wanted")
    other = Delivery.objects.get(event__event_id="evt-other")
    for delivery in (wanted, other):
        RequestLog.objects.create(
            subscription=subscription, delivery_id=delivery.pk, method="POST", url="http://x", response_status=200
        )
    [found] = viewer.get(f"{LIST}?q=evt-wanted").context["cl"].result_list
    assert found.delivery_id == wanted.pk and found.event_id_shown == "evt-wanted"
    [found] = viewer.get(f"{LIST}?q={other.pk}").context["cl"].result_list
    assert found.delivery_id == other.pk
    assert list(viewer.get(f"{LIST}?q=nothing-like-it").context["cl"].result_list) == []
    listing = viewer.get(LIST).content.decode()
    assert f'href="/admin/delivery/delivery/{wanted.pk}/change/"' in listing and "evt-wanted" in listing
    delivery_page = viewer.get(f"/admin/delivery/delivery/{wanted.pk}/change/").content.decode()
    assert f'href="/admin/requestlog/requestlog/?q={wanted.pk}"' in delivery_page


def test_search_never_finds_another_environments_event(viewer, entries, catalog):
    from delivery.ingest import events_ingest
    from delivery.models import Delivery
    from tenancy.services import environment_create
    from tests.factories import event

    other, _ = environment_create(name="globex")
    theirs = subscription_create(
        environment=other, name="Theirs", event_types=["card-completed"], url="http://127.0.0.1:9/t"
    )
    events_ingest(environment=other, raw_events=[event(id="evt-theirs")])
    delivery = Delivery.objects.get(event__event_id="evt-theirs")
    RequestLog.objects.create(subscription=theirs, delivery_id=delivery.pk, method="POST", url="http://x/")
    assert list(viewer.get(f"{LIST}?q=evt-theirs").context["cl"].result_list) == []
    assert list(viewer.get(f"{LIST}?q={delivery.pk}").context["cl"].result_list) == []
