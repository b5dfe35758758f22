"""Interactive calls in flight: per environment (slots in the shared cache) and per process, failing open."""

import threading
import time

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.cache import cache

from config.errors import ApiError
from subscriptions.services import subscription_create
from tenancy import interactive_calls
from tenancy.interactive_calls import interactive_call


class UnreachableCache:
    """Every call fails as the Redis cache does while the server is down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return fail


@pytest.fixture
def roomy_process(monkeypatch):
    """A process cap above the environment's limit, so the environment's slots are what refuses."""
    monkeypatch.setattr(interactive_calls, "_process_slots", threading.BoundedSemaphore(10))


@pytest.fixture
def subscription(environment, receiver):
    return subscription_create(
        environment=environment, name="Sink", event_types=["card-completed"], url=receiver.url("/hook")
    )


def _slot_keys(environment_id, limit: int) -> list[str]:
    return [f"outflow:interactive:{environment_id}:{index}" for index in range(limit)]


def _taken_by_another_process(environment_id, settings) -> None:
    for key in _slot_keys(environment_id, settings.OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT):
        assert cache.add(key, "another-process", timeout=60)


def _refusal(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    return response["Retry-After"]


def test_slots_are_taken_up_to_the_limit_and_freed_after_the_call(roomy_process, environment, settings):
    settings.OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT = 2
    with interactive_call(environment_id=environment.pk), interactive_call(environment_id=environment.pk):
        with pytest.raises(ApiError) as refused, interactive_call(environment_id=environment.pk):
            pass
        assert refused.value.status_code == 429 and refused.value.error_code == "rate_limited"
        assert refused.value.retry_after == 1
        assert all(cache.get(key) for key in _slot_keys(environment.pk, 2))
    assert not any(cache.get(key) for key in _slot_keys(environment.pk, 2))
    with interactive_call(environment_id=environment.pk):
        pass


def test_a_slot_expires_so_a_crashed_process_frees_it(roomy_process, environment, settings):
    settings.OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT = 1
    [key] = _slot_keys(environment.pk, 1)
    with interactive_call(environment_id=environment.pk):
        ttl = cache._cache.get_client().ttl(cache.make_key(key))
        assert 0 < ttl <= 3 * settings.OUTFLOW_REQUEST_TIMEOUT_SECONDS + interactive_calls.SLOT_MARGIN_SECONDS
    cache.add(key, "a-process-that-died", timeout=1)
    with pytest.raises(ApiError), interactive_call(environment_id=environment.pk):
        pass
    time.sleep(2.1)
    with interactive_call(environment_id=environment.pk):
        pass


def test_a_call_that_outlived_its_slot_leaves_the_next_owner_s_slot_alone(roomy_process, environment, settings):
    settings.OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT = 1
    [key] = _slot_keys(environment.pk, 1)
    with interactive_call(environment_id=environment.pk):
        cache.set(key, "the-next-owner", timeout=60)
    assert cache.get(key) == "the-next-owner"


def test_past_the_environment_s_limit_every_interactive_call_answers_429(
    roomy_process, api, other_api, environment, subscription, settings, receiver
):
    _taken_by_another_process(environment.pk, settings)
    send_request = {"method": "GET", "url": receiver.url("/step")}
    assert _refusal(api.post("/api/v1/send-request", send_request, format="json"), 429, "rate_limited") == "1"
    test = api.post(f"/api/v1/subscriptions/{subscription.pk}/test", {}, format="json")
    assert _refusal(test, 429, "rate_limited") == "1"
    preview = api.post(f"/api/v1/subscriptions/{subscription.pk}/mapping/preview", {}, format="json")
    assert _refusal(preview, 429, "rate_limited") == "1"
    assert "at most 2 interactive calls" in preview.json()["error"]["message"]
    assert receiver.received() == []
    assert other_api.post("/api/v1/send-request", send_request, format="json").status_code == 200


def test_past_the_process_cap_an_interactive_call_answers_503_and_frees_its_environment_slot(
    monkeypatch, api, environment, settings, receiver
):
    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(interactive_calls, "_process_slots", slots)
    send_request = {"method": "GET", "url": receiver.url("/step")}
    slots.acquire()
    assert _refusal(api.post("/api/v1/send-request", send_request, format="json"), 503, "unavailable") == "1"
    assert not any(
        cache.get(key) for key in _slot_keys(environment.pk, settings.OUTFLOW_INTERACTIVE_CALLS_PER_ENVIRONMENT)
    )
    slots.release()
    assert api.post("/api/v1/send-request", send_request, format="json").json()["status"] == 204


def test_an_environment_over_its_own_limit_hears_429_even_when_the_process_is_full(
    monkeypatch, api, environment, settings, receiver
):
    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(interactive_calls, "_process_slots", slots)
    slots.acquire()
    _taken_by_another_process(environment.pk, settings)
    response = api.post("/api/v1/send-request", {"method": "GET", "url": receiver.url("/step")}, format="json")
    assert _refusal(response, 429, "rate_limited") == "1"


def test_bad_input_takes_no_slot(roomy_process, api, environment, settings):
    _taken_by_another_process(environment.pk, settings)
    response = api.post("/api/v1/send-request", {"method": "GET", "url": "ftp://example.com/"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["error"]["fields"]


def test_an_unreachable_cache_leaves_only_the_process_cap(monkeypatch, api, environment, receiver, caplog):
    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(interactive_calls, "_process_slots", slots)
    monkeypatch.setattr(interactive_calls, "cache", UnreachableCache())
    response = api.post("/api/v1/send-request", {"method": "GET", "url": receiver.url("/step")}, format="json")
    assert response.status_code == 200 and response.json()["status"] == 204
    assert "shared cache unreachable (ConnectionError)" in caplog.text
    with interactive_call(environment_id=environment.pk):
        with pytest.raises(ApiError) as refused, interactive_call(environment_id=environment.pk):
            pass
        assert refused.value.status_code == 503


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_the_admin_s_send_test_and_preview_keep_the_limit(
    roomy_process, admin_client, subscription, settings, receiver
):
    _taken_by_another_process(subscription.environment_id, settings)
    page = f"/admin/subscriptions/subscription/{subscription.pk}"
    sent = admin_client.post(f"{page}/send-test/", {"event_type": "card-completed"})
    assert sent.status_code == 200
    assert "Test request not sent: at most 2 interactive calls" in sent.content.decode()
    preview = admin_client.post(
        f"{page}/mapping/preview/", {"script": "return event;"}, content_type="application/json"
    )
    assert _refusal(preview, 429, "rate_limited") == "1"
    assert receiver.received() == []
