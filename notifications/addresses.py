"""Notification email addresses: which are acceptable, which are confirmed, and the signed links that confirm them.

An address receives notifications only once its owner confirmed it through the link of a confirmation mail
(notifications/confirmation.py): a tenant cannot have the operator's mail server write to anyone it lists.
"""

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse

from notifications.models import NotificationSettings

EMAIL_CONFIRMATION = "email.confirmation"
_EMAIL_MAX_LENGTH = 254
_TOKEN_SALT = "notifications.email-confirmation"
# Top-level names of no public mail domain (reserved by RFC 2606, RFC 6761 and RFC 8375, and common internal ones).
_INTERNAL_TOP_LEVEL = {
    "arpa",
    "corp",
    "example",
    "home",
    "internal",
    "intranet",
    "invalid",
    "lan",
    "local",
    "localdomain",
    "localhost",
    "private",
    "test",
}


def _domain_problem(domain: str) -> str | None:
    if domain.startswith("["):
        return "a domain literal ([…]) is not accepted"
    labels = domain.rstrip(".").lower().split(".")
    if len(labels) < 2:
        return "a single-label domain is not accepted"
    if labels[-1] in _INTERNAL_TOP_LEVEL:
        return f"an internal domain (.{labels[-1]}) is not accepted"
    return None


def emails_checked(emails: list[str]) -> tuple[list[str], list[str]]:
    """The addresses without repeats (case-insensitively), and what is wrong with them: public mail domains only."""
    limit = settings.OUTFLOW_NOTIFICATION_MAX_EMAILS
    if len(emails) > limit:
        return emails, [f"at most {limit} addresses"]
    kept, seen, problems = [], set(), []
    for email in emails:
        email = email.strip()
        if "@" in email and (problem := _domain_problem(email.rsplit("@", 1)[1])):
            problems.append(f"{email[:80]!r}: {problem}")
            continue
        try:
            if len(email) > _EMAIL_MAX_LENGTH:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            problems.append(f"{email[:80]!r} is not a valid email address")
            continue
        if email.lower() not in seen:
            seen.add(email.lower())
            kept.append(email)
    return kept, problems


def emails_confirmed(notification_settings: NotificationSettings) -> list[str]:
    """The listed addresses their owners confirmed: the only ones notifications are mailed to."""
    confirmed = set(notification_settings.confirmed_emails)
    return [email for email in notification_settings.emails if email.lower() in confirmed]


def email_states(notification_settings: NotificationSettings) -> list[dict]:
    confirmed = set(notification_settings.confirmed_emails)
    return [{"email": email, "confirmed": email.lower() in confirmed} for email in notification_settings.emails]


def confirmation_token(*, environment_id, email: str) -> str:
    """Signed with SECRET_KEY and timestamped: it confirms this address for this environment until it expires."""
    return signing.dumps({"environment": str(environment_id), "email": email.lower()}, salt=_TOKEN_SALT)


def confirmation_token_read(token: str) -> dict | None:
    """The environment and address a token confirms; None when it was not signed here, or has expired."""
    try:
        claims = signing.loads(
            token, salt=_TOKEN_SALT, max_age=settings.OUTFLOW_NOTIFICATION_CONFIRMATION_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict) or not {"environment", "email"} <= set(claims):
        return None
    return claims


def confirmation_url(*, environment_id, email: str) -> str:
    """The page's address with the token after '#': a browser never sends that part, so no access log, proxy or span
    records the token; the page's script puts it in the form it posts."""
    token = confirmation_token(environment_id=environment_id, email=email)
    return f"{settings.OUTFLOW_PUBLIC_URL.rstrip('/')}{reverse('notifications:email-confirm')}#{token}"
