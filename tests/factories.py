"""Builders of API payloads, rows and signed-in Workbench members the tests need."""

import itertools

_ids = itertools.count(1)


def event(name: str = "card-completed", **fields) -> dict:
    payload = {
        "id": f"evt_{next(_ids)}",
        "eventName": name,
        "timestamp": "2026-11-28T10:00:00Z",
        "endUserId": "user-42",
        "cardContext": {"cardInstanceId": "ci-1", "cardTemplateId": "card-7"},
        "properties": {"values": {"rating": 5}},
    }
    payload.update(fields)
    return payload


def subscription_payload(url: str, **fields) -> dict:
    payload = {"name": "Analytics sink", "event_types": ["card-completed"], "url": url}
    payload.update(fields)
    return payload


def member_client(environment, username: str, role: str = "editor"):
    """A Django test client signed in as a Workbench member of the environment."""
    from django.test import Client

    from subscriptions.services import member_set

    member, _ = member_set(environment=environment, username=username, role=role)
    client = Client()
    client.force_login(member.user)
    return client
