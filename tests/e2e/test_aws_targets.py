"""End to end: deliveries that speak AWS services' JSON protocols, signed with SigV4, into moto's server with IAM on.

moto checks every signature, so a delivery that lands was signed over exactly what was sent. The subscription URL is
moto's loopback address, from which no service can be inferred: the credentials name their service and region.
"""

import json
import time
import uuid

import pytest

from delivery.models import Delivery
from requestlog.models import RequestLog
from tests import secrets
from tests.e2e.steps import ingest, wait_until
from tests.factories import event, subscription_payload
from tests.moto_server import ACCOUNT_ID, REGION

pytestmark = pytest.mark.e2e


def _credential(api, moto, *, service: str, secret_access_key: str | None = None) -> str:
    payload = {
        "name": f"moto {service}",
        "type": "aws_signed_request",
        "access_key_id": moto.access_key_id,
        "secret_access_key": secret_access_key or moto.secret_access_key,
        "region": REGION,
        "service": service,
    }
    response = api.post("/api/v1/credentials", payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _subscribe(api, moto, *, service: str, content_type: str, target: str, mapping: str, **fields) -> dict:
    payload = subscription_payload(
        f"{moto.url}/",
        headers={"Content-Type": content_type, "X-Amz-Target": target},
        credential=fields.pop("credential", None) or _credential(api, moto, service=service),
        mapping=mapping,
        **fields,
    )
    response = api.post("/api/v1/subscriptions", payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _all_succeeded(count: int) -> bool:
    return Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == count


def _queue(moto) -> tuple[str, str]:
    sqs = moto.client("sqs")
    url = sqs.create_queue(QueueName=f"outflow-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _received_bodies(moto, queue_url: str, count: int, timeout: float = 10.0) -> list[str]:
    sqs = moto.client("sqs")
    bodies: list[str] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < count and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not messages:
            time.sleep(0.1)
    return bodies


def test_events_land_in_an_sqs_queue_through_send_message(worker, api, moto):
    queue_url, _ = _queue(moto)
    _subscribe(
        api,
        moto,
        service="sqs",
        content_type="application/x-amz-json-1.0",
        target="AmazonSQS.SendMessage",
        mapping=f"return {{QueueUrl: {json.dumps(queue_url)}, MessageBody: JSON.stringify(event)}};",
    )
    sent = [event(endUserId=f"user-{n}") for n in range(3)]
    ingest(api, *sent)

    wait_until(lambda: _all_succeeded(3))
    received = [json.loads(body) for body in _received_bodies(moto, queue_url, 3)]
    assert sorted((body["id"], body["endUserId"]) for body in received) == sorted(
        (item["id"], item["endUserId"]) for item in sent
    )
    logged = RequestLog.objects.all()
    assert {row.response_status for row in logged} == {200}
    assert {row.request_headers["content-type"] for row in logged} == {"application/x-amz-json-1.0"}


def test_events_land_on_an_eventbridge_bus_through_put_events(worker, api, moto):
    queue_url, queue_arn = _queue(moto)
    events = moto.client("events")
    bus = f"outflow-{uuid.uuid4().hex[:12]}"
    events.create_event_bus(Name=bus)
    events.put_rule(Name="all-outflow", EventBusName=bus, EventPattern=json.dumps({"source": ["outflow"]}))
    events.put_targets(Rule="all-outflow", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    mapping = (
        "return {Entries: [{Source: 'outflow', DetailType: event.eventName, Detail: JSON.stringify(event), "
        f"EventBusName: {json.dumps(bus)}}}]}};"
    )
    _subscribe(
        api,
        moto,
        service="events",
        content_type="application/x-amz-json-1.1",
        target="AWSEvents.PutEvents",
        mapping=mapping,
    )
    sent = [event(), event("card-dismissed")]
    ingest(api, *sent)

    wait_until(lambda: _all_succeeded(1))  # only card-completed matches the subscription
    [envelope] = [json.loads(body) for body in _received_bodies(moto, queue_url, 1)]
    assert envelope["source"] == "outflow" and envelope["detail-type"] == "card-completed"
    assert envelope["detail"]["id"] == sent[0]["id"]
    assert _received_bodies(moto, queue_url, 1, timeout=0.5) == []


def test_records_land_in_a_kinesis_stream_through_put_record(worker, api, moto):
    kinesis = moto.client("kinesis")
    stream = f"outflow-{uuid.uuid4().hex[:12]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    mapping = (
        f"return {{StreamName: {json.dumps(stream)}, PartitionKey: event.endUserId, "
        "Data: btoa(unescape(encodeURIComponent(JSON.stringify(event))))};"
    )
    _subscribe(
        api,
        moto,
        service="kinesis",
        content_type="application/x-amz-json-1.1",
        target="Kinesis_20131202.PutRecord",
        mapping=mapping,
    )
    sent = event(endUserId="user-ü")  # not Latin-1: the mapping encodes UTF-8 before base64
    ingest(api, sent)

    wait_until(lambda: _all_succeeded(1))
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    [record] = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    data = json.loads(record["Data"].decode("utf-8"))
    assert record["PartitionKey"] == "user-ü" and (data["id"], data["endUserId"]) == (sent["id"], "user-ü")


def test_records_land_in_s3_through_a_firehose_stream(worker, api, moto):
    s3 = moto.client("s3")
    bucket = f"outflow-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    stream = f"outflow-{uuid.uuid4().hex[:12]}"
    moto.client("firehose").create_delivery_stream(
        DeliveryStreamName=stream,
        S3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/firehose",
            "BucketARN": f"arn:aws:s3:::{bucket}",
        },
    )
    mapping = (
        f"return {{DeliveryStreamName: {json.dumps(stream)}, "
        "Record: {Data: btoa(unescape(encodeURIComponent(JSON.stringify(event) + '\\n')))}};"
    )
    _subscribe(
        api,
        moto,
        service="firehose",
        content_type="application/x-amz-json-1.1",
        target="Firehose_20150804.PutRecord",
        mapping=mapping,
    )
    sent = event()
    ingest(api, sent)

    wait_until(lambda: _all_succeeded(1))
    [item] = s3.list_objects_v2(Bucket=bucket)["Contents"]
    line = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
    assert line.endswith("\n") and json.loads(line)["id"] == sent["id"]


def test_a_wrong_secret_access_key_is_refused_by_moto(worker, api, moto):
    queue_url, _ = _queue(moto)
    wrong = _credential(api, moto, service="sqs", secret_access_key=secrets.AWS_SECRET_ACCESS_KEY)
    subscription = _subscribe(
        api,
        moto,
        service="sqs",
        content_type="application/x-amz-json-1.0",
        target="AmazonSQS.SendMessage",
        mapping=f"return {{QueueUrl: {json.dumps(queue_url)}, MessageBody: JSON.stringify(event)}};",
        credential=wrong,
        max_retries=0,
        auto_disable=False,
    )
    ingest(api, event())

    wait_until(lambda: Delivery.objects.get().status == Delivery.Status.FAILED)
    assert Delivery.objects.get().last_status_code == 403
    [row] = RequestLog.objects.all()
    assert row.response_status == 403
    assert _received_bodies(moto, queue_url, 1, timeout=0.5) == []

    # Send test keeps the bodies: moto says why.
    answer = api.post(f"/api/v1/subscriptions/{subscription['id']}/test", {}, format="json").json()
    assert answer["response_status"] == 403 and "SignatureDoesNotMatch" in answer["response_body"]
