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


def subscription_form_data(environment, url: str = "http://127.0.0.1:9/hook", **fields) -> dict:
    """The Workbench's Add subscription form as a browser posts it, with the defaults a member leaves."""
    data = {
        "environment": str(environment.pk),
        "name": "Analytics sink",
        "card": "",
        "event_types": ["card-completed"],
        "method": "POST",
        "url": url,
        "header_lines": "",
        "credential": "",
        "tls_credential": "",
        "max_retries": "23",
        "auto_disable": "on",
        "rate_limit": "",
        "_save": "Save",
    }
    data.update(fields)
    return data


def member_client(environment, username: str, role: str = "editor"):
    """A Django test client signed in as a Workbench member of the environment."""
    from django.test import Client

    from tenancy.services import member_set

    member, _ = member_set(environment=environment, username=username, role=role)
    client = Client()
    client.force_login(member.user)
    return client
