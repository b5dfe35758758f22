"""Schemathesis over the served schema with a real API key: no input makes a server error, and every answer is
the one the schema documents. Bounded: FUZZ_EXAMPLES examples per operation (OUTFLOW_FUZZ_EXAMPLES to change)."""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from credentials.services import credential_create
from subscriptions.services import subscription_create

FUZZ_EXAMPLES = int(os.environ.get("OUTFLOW_FUZZ_EXAMPLES", "20"))
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Valid input by the schema and invalid input (wrong types, out of range, missing fields), NUL characters included.
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE], allow_x00=True
)


@pytest.fixture
def real_ids(environment) -> dict[str, str]:
    """Ids of objects the key's environment has, by the path they are found under."""
    subscription = subscription_create(
        environment=environment, name="fuzzed", event_types=["card-completed"], url="http://127.0.0.1:9/hook"
    )
    credential = credential_create(
        environment=environment, name="fuzzed", type="basic_auth", values={"username": "u", "password": "p"}
    )
    return {"/api/v1/subscriptions/": str(subscription.pk), "/api/v1/credentials/": str(credential.pk)}


@pytest.fixture
def bearer(environment):
    """The key's header; requests run in the test's transaction, so, as Django's test client does, they must not
    close the connection when they end."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {environment.api_key}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_api_never_answers_a_server_error_and_keeps_to_its_schema(case, bearer, real_ids):
    # Most operations on one object would otherwise only ever meet 404 (a random id): they get a real one, but
    # DELETE, which would leave the rest of the examples nothing to act on.
    if case.path_parameters and "id" in case.path_parameters and case.method != "DELETE":
        for prefix, real_id in real_ids.items():
            if case.path.startswith(prefix):
                case.path_parameters["id"] = real_id
    case.call_and_validate(headers=bearer, checks=[not_a_server_error, response_schema_conformance])
