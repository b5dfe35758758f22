"""Fixtures of the tenancy tests: an owner of the test environment, signed in, and another environment."""

import pytest

from tenancy.services import environment_create, member_set
from tests.factories import member_client


@pytest.fixture
def owner(environment):
    return member_client(environment, "olive", role="owner")


@pytest.fixture
def other(catalog):
    """Another environment, with its owner and an editor."""
    environment, _ = environment_create(name="globex")
    member_set(environment=environment, username="gail", role="owner")
    member_set(environment=environment, username="gus", role="editor")
    return environment
