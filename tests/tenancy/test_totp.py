"""Members' TOTP devices: create_member --totp gives one whose URI an authenticator app reads, its key is encrypted at
rest, a code counts once, and wrong codes slow the next try down."""

import base64
import datetime
import json
import time
from io import StringIO

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tenancy.models import TotpDevice
from tenancy.services import member_set
from tenancy.totp import totp_device_confirm, totp_device_verify, totp_enrolment_device, totp_qr_code, totp_uri


@pytest.fixture(autouse=True)
def no_throttling(settings):
    """A refused code would make the next one wait (the throttling test turns it back on)."""
    settings.OUTFLOW_TOTP_THROTTLE_FACTOR = 0


def test_create_member_totp_prints_a_uri_whose_codes_sign_in(environment):
    out = StringIO()
    call_command("create_member", "acme", "dana", "--email", "dana@acme.test", "--totp", stdout=out)
    line = json.loads(out.getvalue())
    assert list(line) == ["username", "password", "environment", "role", "totp_uri"]
    assert line["totp_uri"].startswith("otpauth://totp/Outflow%20Workbench:dana?secret=")
    app = pyotp.parse_uri(line["totp_uri"])
    assert (app.issuer, app.name, app.interval, app.digits) == ("Outflow Workbench", "dana", 30, 6)
    user = get_user_model().objects.get(username="dana")
    assert user.email == "dana@acme.test"
    assert totp_device_verify(user=user, token=app.now()) is not None


def test_create_member_totp_again_replaces_the_device(environment):
    first, second = StringIO(), StringIO()
    call_command("create_member", "acme", "dana", "--totp", stdout=first)
    call_command("create_member", "acme", "dana", "--totp", stdout=second)
    old, new = (pyotp.parse_uri(json.loads(out.getvalue())["totp_uri"]) for out in (first, second))
    assert old.secret != new.secret and "password" not in json.loads(second.getvalue())
    user = get_user_model().objects.get(username="dana")
    assert TotpDevice.objects.filter(user=user).count() == 1
    assert totp_device_verify(user=user, token=old.now()) is None
    assert totp_device_verify(user=user, token=new.at(time.time() + 30)) is not None


def test_create_member_refuses_a_malformed_email_and_changes_nothing(environment):
    with pytest.raises(CommandError, match="valid email"):
        call_command("create_member", "acme", "dana", "--email", "not an address", "--totp", stdout=StringIO())
    assert not get_user_model().objects.filter(username="dana").exists()
    assert not TotpDevice.objects.exists()


def test_the_key_is_stored_encrypted(environment):
    member, _ = member_set(environment=environment, username="dana")
    device = totp_enrolment_device(user=member.user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM tenancy_totpdevice WHERE id = %s", [device.pk])
        [stored] = cursor.fetchone()
    assert len(device.key) == 40 and device.key not in stored
    secret = pyotp.parse_uri(totp_uri(device)).secret
    assert secret not in stored and secret.lower() not in stored.lower()


def test_a_code_counts_once_and_an_older_one_not_after_it(environment):
    member, _ = member_set(environment=environment, username="dana")
    device = totp_enrolment_device(user=member.user)
    app = pyotp.parse_uri(totp_uri(device))
    assert totp_device_confirm(device=device, token=app.now())
    assert totp_device_verify(user=member.user, token=app.now()) is None
    assert totp_device_verify(user=member.user, token=app.at(time.time() - 30)) is None
    assert totp_device_verify(user=member.user, token=app.at(time.time() + 30)) is not None


def test_a_wrong_code_makes_the_next_right_one_wait(environment, settings):
    settings.OUTFLOW_TOTP_THROTTLE_FACTOR = 1
    member, _ = member_set(environment=environment, username="dana")
    device = totp_enrolment_device(user=member.user)
    app = pyotp.parse_uri(totp_uri(device))
    assert not totp_device_confirm(device=device, token="000000" if app.now() != "000000" else "111111")
    assert not totp_device_confirm(device=device, token=app.now())
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1
    # Once the wait (a second after one failure) is over, the right code goes through.
    TotpDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=device.throttling_failure_timestamp - datetime.timedelta(seconds=2)
    )
    assert totp_device_confirm(device=device, token=app.now())


def test_confirming_an_enrolment_drops_the_other_devices(environment):
    member, _ = member_set(environment=environment, username="dana")
    call_command("create_member", "acme", "dana", "--totp", stdout=StringIO())
    device = totp_enrolment_device(user=member.user)
    assert TotpDevice.objects.filter(user=member.user).count() == 2
    assert totp_device_confirm(device=device, token=pyotp.parse_uri(totp_uri(device)).now())
    assert list(TotpDevice.objects.filter(user=member.user)) == [device]


def test_the_qr_code_is_an_svg_image():
    data = totp_qr_code("otpauth://totp/Outflow%20Workbench:dana?secret=ABC")
    assert data.startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(data.split(",", 1)[1])
