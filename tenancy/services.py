"""Services that create environments, their API keys and their members."""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from tenancy.models import ApiKey, Environment, Member
from tenancy.signals import environment_created

API_KEY_PREFIX = "of_"


def environment_create(*, name: str) -> tuple[Environment, str]:
    """A new environment with a first API key (returned once, in clear); environment_created gives it the rest."""
    with transaction.atomic():
        environment = Environment(name=name)
        environment.full_clean()
        environment.save()
        environment_created.send(sender=Environment, environment=environment)
        key = api_key_create(environment=environment)
    return environment, key


def api_key_create(*, environment: Environment) -> str:
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    ApiKey.objects.create(environment=environment, prefix=key[:10], key_hash=hashlib.sha256(key.encode()).hexdigest())
    return key


def member_set(
    *, environment: Environment, username: str, role: str = Member.Role.EDITOR, email: str | None = None
) -> tuple[Member, str | None]:
    """Make a user a member of an environment with a role (or change the role); a new user's password is returned.
    The email, where given, is the one single sign-on matches (tenancy/sso.py).

    Members are staff so that they can sign in to the admin, with no model permissions: what they see and change
    is decided by their memberships (tenancy/workbench.py), never by Django's global permissions.
    """
    if role not in Member.Role.values:
        raise ValidationError({"role": [f"must be one of {', '.join(Member.Role.values)}"]})
    if email is not None:
        validate_email(email)
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
        password = None
        if created:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
        else:
            if user.is_superuser or user.user_permissions.exists() or user.groups.exists():
                # Staff with permissions of their own would reach the operators' pages as a member signs in.
                raise ValidationError(
                    {"username": [f"{username!r} is an operator or holds admin permissions; a member holds none"]}
                )
            if not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
        if email is not None and user.email != email:
            user.email = email
            user.save(update_fields=["email"])
        member, _ = Member.objects.update_or_create(user=user, environment=environment, defaults={"role": role})
    return member, password
