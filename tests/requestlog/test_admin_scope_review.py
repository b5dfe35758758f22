"""A hostile review of the request log's and deliveries' scope by subscription ids: a member of one environment never
reads another's entries, through the subscription filter, a search, or an entry's own page."""

from delivery.ingest import events_ingest
from delivery.models import Delivery
from requestlog.models import RequestLog
from subscriptions.services import subscription_create
from tenancy.services import environment_create
from tests.factories import event, member_client

LOG = "/admin/requestlog/requestlog/"
DELIVERIES = "/admin/delivery/delivery/"


def test_a_member_reads_nothing_of_another_environment_s_log_or_deliveries(environment, catalog):
    mine = subscription_create(
        environment=environment, name="Mine", event_types=["card-completed"], url="http://127.0.0.1:9/a"
    )
    other, _ = environment_create(name="globex")
    theirs = subscription_create(
        environment=other, name="Theirs", event_types=["card-completed"], url="http://127.0.0.1:9/t"
    )
    events_ingest(environment=other, raw_events=[event(id="evt-shared")])
    events_ingest(environment=environment, raw_events=[event(id="evt-shared")])
    their_delivery = Delivery.objects.get(subscription=theirs)
    my_delivery = Delivery.objects.get(subscription=mine)
    their_entry = RequestLog.objects.create(subscription=theirs, delivery_id=their_delivery.pk, method="P", url="t")
    my_entry = RequestLog.objects.create(subscription=mine, delivery_id=my_delivery.pk, method="P", url="a")
    viewer = member_client(environment, "vi", role="viewer")

    for listing in (LOG, DELIVERIES):
        for query in (f"subscription__id__exact={theirs.pk}", f"q={their_delivery.pk}", "q=evt-shared"):
            response = viewer.get(f"{listing}?{query}")
            assert response.status_code in (200, 302), (listing, query)
            if response.status_code == 200:
                shown = {row.pk for row in response.context["cl"].result_list}
                assert their_entry.pk not in shown and their_delivery.pk not in shown, (listing, query)
        assert viewer.get(f"{listing}?subscription__environment__id__exact={other.pk}").status_code == 400
    assert [row.pk for row in viewer.get(f"{LOG}?q=evt-shared").context["cl"].result_list] == [my_entry.pk]
    assert viewer.get(f"{LOG}{their_entry.pk}/change/").status_code == 404
    assert viewer.get(f"{DELIVERIES}{their_delivery.pk}/change/").status_code == 404
    assert viewer.post(f"{DELIVERIES}{their_delivery.pk}/resend/").status_code == 404
