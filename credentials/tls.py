"""TLS credentials: checking PEM material on save, what reads show of it, and what a request hands to the client."""

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from outbound.client import ClientTls

_KEY_TYPES_NOTE = "an unencrypted PEM private key (PKCS#8 or the traditional RSA/EC form)"


@dataclass(frozen=True)
class CertificateSummary:
    subject: str
    issuer: str
    expires_at: datetime.datetime


def _certificates(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def _private_key(pem: str):
    """The key, or ValueError saying what is wrong with it in words that show nothing of it."""
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError as error:
        # cryptography raises TypeError for a key that needs a password.
        raise ValueError("the private key is encrypted; give it without a passphrase") from error
    except (ValueError, UnsupportedAlgorithm) as error:
        raise ValueError(f"not {_KEY_TYPES_NOTE}") from error


def _public_bytes(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def tls_value_errors(values: dict) -> dict[str, list[str]]:
    """Field → problems of a TLS credential's whole set of values (stored ones merged with the given)."""
    certificate, private_key = values.get("certificate") or "", values.get("private_key") or ""
    ca_certificates = values.get("ca_certificates") or ""
    errors: dict[str, list[str]] = {}
    if not (certificate or private_key or ca_certificates):
        errors["certificate"] = ["give a certificate and its private key, CA certificates, or both"]
        return errors
    if bool(certificate) != bool(private_key):
        missing = "private_key" if certificate else "certificate"
        errors[missing] = ["a client certificate and its private key go together: give both or neither"]
    parsed = None
    if certificate:
        try:
            chain = _certificates(certificate)
            parsed = chain[0]
        except ValueError:
            errors["certificate"] = ["not a PEM certificate"]
    key = None
    if private_key:
        try:
            key = _private_key(private_key)
        except ValueError as error:
            errors["private_key"] = [str(error)]
    if parsed is not None and key is not None and not key_matches(parsed, key):
        errors["private_key"] = ["the private key does not belong to the certificate"]
    if ca_certificates:
        try:
            _certificates(ca_certificates)
        except ValueError:
            errors["ca_certificates"] = ["not a bundle of PEM certificates"]
    return errors


def key_matches(certificate: x509.Certificate, key) -> bool:
    return _public_bytes(certificate.public_key()) == _public_bytes(key.public_key())


def certificate_summary(pem: str) -> CertificateSummary | None:
    """Subject, issuer and expiry of the first certificate of a PEM text; None for none."""
    if not pem:
        return None
    certificate = _certificates(pem)[0]
    return CertificateSummary(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        expires_at=certificate.not_valid_after_utc,
    )


def tls_check(*, certificate: str, private_key: str, ca_certificates: str, now: datetime.datetime) -> dict:
    """What `check` answers of a TLS credential: whether the key matches, and when each certificate expires."""
    answer: dict = {"key_matches": None, "expires_at": None, "ca_certificates_expire_at": None}
    if certificate and private_key:
        parsed = _certificates(certificate)[0]
        answer["key_matches"] = key_matches(parsed, _private_key(private_key))
        answer["expires_at"] = parsed.not_valid_after_utc.isoformat()
    if ca_certificates:
        earliest = min(ca.not_valid_after_utc for ca in _certificates(ca_certificates))
        answer["ca_certificates_expire_at"] = earliest.isoformat()
    expiries = [
        datetime.datetime.fromisoformat(value)
        for value in (answer["expires_at"], answer["ca_certificates_expire_at"])
        if value
    ]
    answer["ok"] = answer["key_matches"] is not False and all(expiry > now for expiry in expiries)
    return answer


def credential_client_tls(tls_credential) -> ClientTls | None:
    """What the outgoing client presents and trusts for a TLS credential (None for none)."""
    if tls_credential is None:
        return None
    return ClientTls(
        certificate=(tls_credential.settings.get("certificate") or "").encode() or None,
        private_key=(tls_credential.secrets.get("private_key") or "").encode() or None,
        ca_certificates=(tls_credential.settings.get("ca_certificates") or "").encode() or None,
    )


def certificate_words(saved: dict, *, now: datetime.datetime) -> str:
    """A TLS credential's client certificate in a line (from its saved settings): subject, issuer and expiry, with a
    warning when the expiry is near."""
    if not saved.get("certificate_expires_at"):
        return "No client certificate (CA certificates only)."
    expires_at = datetime.datetime.fromisoformat(saved["certificate_expires_at"])
    line = (
        f"{saved['certificate_subject']}, issued by {saved['certificate_issuer']},"
        f" expires {expires_at:%Y-%m-%d %H:%M} UTC"
    )
    if expires_at <= now:
        return f"{line}. EXPIRED: the endpoint will refuse it."
    if expires_at - now <= datetime.timedelta(days=settings.OUTFLOW_TLS_EXPIRY_WARNING_DAYS):
        return f"{line}. Expires in {(expires_at - now).days} day(s): replace it soon."
    return f"{line}."
