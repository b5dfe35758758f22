"""Members' TOTP devices: giving one, adding one on the Two-factor page, codes, and the otpauth:// URI and QR code."""

import base64
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction

from tenancy.models import TotpDevice


def totp_device_replace(*, user) -> TotpDevice:
    """A new confirmed device for the user, in place of any they had (a lost phone's among them)."""
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        return TotpDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def totp_enrolment_device(*, user) -> TotpDevice:
    """The device the user is adding on the Two-factor page: unconfirmed until a first code proves the app has it."""
    device = TotpDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TotpDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_device_confirm(*, device: TotpDevice, token: str) -> bool:
    """Confirm an enrolment with a first code; the user's other devices then go (one authenticator app each)."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().get(pk=device.pk)
        if not device.verify_token(token):
            return False
        TotpDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return True


def totp_uri(device: TotpDevice) -> str:
    """The Key URI Format authenticator apps read (Google Authenticator's, which the others follow)."""
    issuer = settings.OUTFLOW_TOTP_ISSUER
    label = f"{quote(issuer)}:{quote(device.user.get_username())}"
    secret = base64.b32encode(bytes.fromhex(device.key)).decode().rstrip("=")
    parameters = {"secret": secret, "issuer": issuer, "algorithm": "SHA1"}
    parameters.update(digits=device.DIGITS, period=device.STEP_SECONDS)
    return f"otpauth://totp/{label}?{urlencode(parameters, quote_via=quote)}"


def totp_qr_code(uri: str) -> str:
    """The URI as a QR code, an SVG image in a data: URL for an <img>."""
    svg = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def totp_device_confirmed(*, user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_verify(*, user, token: str) -> TotpDevice | None:
    """The user's confirmed device if it accepts the code (once: a code used is not accepted again), else None."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return device if device is not None and device.verify_token(token) else None
