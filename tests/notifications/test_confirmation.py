"""Opt-in confirmation of notification addresses: the mail and its signed, expiring link; a page that confirms on
POST only; the rate limits that removing and listing again do not reset; only confirmed addresses are mailed."""

from datetime import timedelta

from django.core import mail
from django.core.signing import TimestampSigner
from django.utils import timezone

from notifications.addresses import EMAIL_CONFIRMATION, confirmation_token
from notifications.models import Notification, NotificationSettings
from notifications.sending import notification_send
from notifications.services import notification_record, notification_settings_update


def _confirmations(environment) -> list[Notification]:
    return list(Notification.objects.filter(environment=environment, type=EMAIL_CONFIRMATION).order_by("created_at"))


def _sent(environment) -> None:
    for notification in Notification.objects.filter(environment=environment, status=Notification.Status.PENDING):
        notification_send(notification_id=notification.pk)


def _link_token(message) -> str:
    """The token of the mail's link: after its '#', which a browser keeps to itself."""
    [line] = [line for line in message.body.splitlines() if "/notifications/confirm#" in line]
    return line.strip().removeprefix("http://127.0.0.1:8000/notifications/confirm#")


def _confirm(client, token: str):
    return client.post("/notifications/confirm", {"token": token})


def _aged(notifications, **age) -> None:
    ids = [notification.pk for notification in notifications]
    Notification.objects.filter(pk__in=ids).update(created_at=timezone.now() - timedelta(**age))


def test_a_listed_address_gets_one_confirmation_mail_and_nothing_else_until_its_owner_confirms(environment, client):
    environment.name = "Buy cheap watches at spam.example"
    environment.save()
    notification_settings_update(environment=environment, emails=["Ops@example.com"])
    assert notification_record(environment_id=environment.pk, type="subscription.resumed", data={}) == []
    _sent(environment)

    [message] = mail.outbox
    assert message.to == ["Ops@example.com"] and message.subject == "[Outflow] Confirm this address for notifications"
    assert "spam.example" not in message.body, "nothing the tenant wrote reaches a stranger"
    token = _link_token(message)
    page = client.get("/notifications/confirm")
    assert page.status_code == 200 and b'method="post"' in page.content and b'name="token"' in page.content
    assert NotificationSettings.objects.get().confirmed_emails == [], "a mail scanner's GET confirms nothing"

    confirmed = _confirm(client, token)
    assert confirmed.status_code == 200 and b"Confirmed" in confirmed.content
    assert NotificationSettings.objects.get().confirmed_emails == ["ops@example.com"]
    [notification] = notification_record(environment_id=environment.pk, type="subscription.resumed", data={})
    notification_send(notification_id=notification.pk)
    assert mail.outbox[-1].to == ["Ops@example.com"] and "resumed" in mail.outbox[-1].subject


def test_only_the_confirmed_addresses_are_mailed(environment, client):
    notification_settings_update(environment=environment, emails=["a@example.com", "b@example.com"])
    _confirm(client, confirmation_token(environment_id=environment.pk, email="b@example.com"))
    Notification.objects.all().delete()

    [notification] = notification_record(environment_id=environment.pk, type="subscription.resumed", data={})
    notification_send(notification_id=notification.pk)

    [message] = mail.outbox
    assert message.to == ["b@example.com"]


def test_an_expired_forged_or_unlisted_link_confirms_nothing(environment, client, settings):
    notification_settings_update(environment=environment, emails=["ops@example.com"])
    token = confirmation_token(environment_id=environment.pk, email="ops@example.com")
    forged = TimestampSigner(key="not-our-key", salt="notifications.email-confirmation").sign(token.split(":")[0])
    other = confirmation_token(environment_id=environment.pk, email="stranger@example.com")

    for bad in [forged, other, "x", ""]:
        assert _confirm(client, bad).status_code == 400
    settings.OUTFLOW_NOTIFICATION_CONFIRMATION_MAX_AGE_SECONDS = -1
    assert _confirm(client, token).status_code == 400
    assert NotificationSettings.objects.get().confirmed_emails == []


def test_a_removed_address_loses_its_confirmation_and_its_pending_confirmation_mail(environment, client):
    notification_settings_update(environment=environment, emails=["ops@example.com", "b@example.com"])
    _confirm(client, confirmation_token(environment_id=environment.pk, email="ops@example.com"))

    notification_settings_update(environment=environment, emails=[])
    _sent(environment)

    assert NotificationSettings.objects.get().confirmed_emails == []
    assert {n.status for n in _confirmations(environment)} == {Notification.Status.CANCELLED} and mail.outbox == []
    token = confirmation_token(environment_id=environment.pk, email="b@example.com")
    assert _confirm(client, token).status_code == 400, "no longer listed"


def test_an_address_is_sent_a_confirmation_at_most_once_an_hour_even_if_removed_and_listed_again(environment):
    notification_settings_update(environment=environment, emails=["ops@example.com"])
    notification_settings_update(environment=environment, emails=["ops@example.com"])
    notification_settings_update(environment=environment, emails=[])
    notification_settings_update(environment=environment, emails=["OPS@example.com"])
    [first] = _confirmations(environment)

    _aged([first], minutes=61)
    notification_settings_update(environment=environment, emails=["OPS@example.com"])

    assert len(_confirmations(environment)) == 2
    assert _confirmations(environment)[-1].payload["data"] == {"email": "OPS@example.com"}


def test_an_environment_sends_few_confirmations_a_day_to_unconfirmed_addresses(api, environment, settings, client):
    settings.OUTFLOW_NOTIFICATION_CONFIRMATIONS_PER_DAY = 2
    listed = ["a@example.com", "b@example.com"]
    assert api.patch("/api/v1/notifications", {"emails": listed}, format="json").status_code == 200

    refused = api.patch("/api/v1/notifications", {"emails": [*listed, "c@example.com"]}, format="json")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (
        error["code"] == "invalid"
        and "'c@example.com': no confirmation mail can be sent today" in error["fields"]["emails"][0]
    )
    assert NotificationSettings.objects.get().emails == listed and len(_confirmations(environment)) == 2

    # Listed again an hour later, the two already listed are not refused, but get no more mail today.
    _aged(_confirmations(environment), minutes=61)
    assert api.patch("/api/v1/notifications", {"emails": listed}, format="json").status_code == 200
    assert len(_confirmations(environment)) == 2

    # A confirmed address no longer counts against the day's cap.
    token = confirmation_token(environment_id=environment.pk, email="a@example.com")
    assert _confirm(client, token).status_code == 200
    answer = api.patch("/api/v1/notifications", {"emails": ["a@example.com", "c@example.com"]}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["emails"] == [
        {"email": "a@example.com", "confirmed": True},
        {"email": "c@example.com", "confirmed": False},
    ]
    assert _confirmations(environment)[-1].payload["data"] == {"email": "c@example.com"}

    # Removing and listing again starts nothing afresh: b's mail is an hour old, but the day's two are spent.
    api.patch("/api/v1/notifications", {"emails": []}, format="json")
    assert api.patch("/api/v1/notifications", {"emails": ["b@example.com"]}, format="json").status_code == 400
    assert api.patch("/api/v1/notifications", {"emails": ["d@example.com"]}, format="json").status_code == 400
    _aged(_confirmations(environment), days=1, minutes=1)
    assert api.patch("/api/v1/notifications", {"emails": ["d@example.com"]}, format="json").status_code == 200
