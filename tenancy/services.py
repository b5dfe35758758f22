"""Services that create environments, their API keys and their members."""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from tenancy.models import ApiKey, Environment, Member
from tenancy.signals import configuration_changed, environment_created

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


def _announce(*, environment: Environment, action: str, obj, name: str, changes: dict) -> None:
    """Tell the audit log of a change, inside its transaction (tenancy may not import audit)."""
    configuration_changed.send(
        sender=type(obj),
        environment=environment,
        action=action,
        object_id=str(obj.pk),
        object_name=name,
        changes=changes,
    )


def api_key_create(*, environment: Environment, scope: str = ApiKey.Scope.FULL) -> str:
    """A new key of a scope (ApiKey.Scope); returned in clear, once: only its hash is kept."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(
        environment=environment, prefix=key[:10], key_hash=hashlib.sha256(key.encode()).hexdigest(), scope=scope
    )
    api_key.full_clean()
    with transaction.atomic():
        api_key.save()
        _announce(
            environment=environment,
            action="api_key.created",
            obj=api_key,
            name=str(api_key),
            changes={"prefix": [None, api_key.prefix], "scope": [None, api_key.scope]},
        )
    return key


def api_key_delete(*, api_key: ApiKey) -> None:
    with transaction.atomic():
        _announce(
            environment=api_key.environment,
            action="api_key.deleted",
            obj=api_key,
            name=str(api_key),
            changes={"prefix": [api_key.prefix, None], "scope": [api_key.scope, None]},
        )
        api_key.delete()


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
        before = Member.objects.filter(user=user, environment=environment).values_list("role", flat=True).first()
        member, _ = Member.objects.update_or_create(user=user, environment=environment, defaults={"role": role})
        if before is None:
            changes = {"username": [None, username], "role": [None, role]}
            _announce(environment=environment, action="member.added", obj=member, name=username, changes=changes)
        elif before != role:
            changes = {"role": [before, role]}
            _announce(environment=environment, action="member.updated", obj=member, name=username, changes=changes)
    return member, password


def member_add(*, environment: Environment, username: str, role: str, by_owner=None) -> tuple[Member, str | None]:
    """A new member of the environment, as member_set makes one (a new user's password is returned, once); a user who
    is a member already is refused: their role changes on their own page.

    An owner who adds (`by_owner`, the user; None for an operator) may add someone who has a sign-in already only if
    that user is a member of an environment the owner owns. Usernames are shared by every environment, and whoever
    made a user was shown its password: were another environment's owner to add that name, thinking it their
    colleague's, the user's maker could sign in to their environment."""
    if Member.objects.filter(environment=environment, user__username=username).exists():
        raise ValidationError(
            {"username": [f"{username} is already a member of {environment}: change their role on their page"]}
        )
    existing = get_user_model().objects.filter(username=username).first()
    owned = Member.objects.filter(user=by_owner, role=Member.Role.OWNER).values("environment_id")
    if (
        by_owner is not None
        and existing is not None
        and not Member.objects.filter(user=existing, environment_id__in=owned).exists()
    ):
        raise ValidationError(
            {
                "username": [
                    f"{username} is the sign-in of someone outside your environments: choose another username for"
                    " your colleague, or ask an operator to add this one"
                ]
            }
        )
    return member_set(environment=environment, username=username, role=role)


def member_role_change(*, member: Member, role: str, keep_an_owner: bool = True) -> Member:
    """A member's new role. With keep_an_owner (the Workbench's owners), the environment's last owner stays one."""
    with transaction.atomic():
        member = _member_locked(member=member)
        if keep_an_owner and role != Member.Role.OWNER:
            _refuse_the_last_owner(member=member, field="role")
        member, _ = member_set(environment=member.environment, username=member.user.get_username(), role=role)
    return member


def member_remove(*, member: Member, keep_an_owner: bool = True) -> None:
    """Take the member out of the environment (the user stays). With keep_an_owner (everyone but operators), the
    environment's last owner cannot be removed."""
    with transaction.atomic():
        member = _member_locked(member=member)
        if keep_an_owner:
            _refuse_the_last_owner(member=member, field=None)
        _announce(
            environment=member.environment,
            action="member.removed",
            obj=member,
            name=member.user.get_username(),
            changes={"username": [member.user.get_username(), None], "role": [member.role, None]},
        )
        member.delete()


def member_removable_check(*, member: Member) -> None:
    """Refuse, before asking for a confirmation, what member_remove would refuse: the environment's last owner."""
    _refuse_the_last_owner(member=member, field=None)


def _member_locked(*, member: Member) -> Member:
    """The member as it is now (the caller's copy may hold a role changed since), its environment's row locked so that
    two owners demoting each other at once are counted one after the other."""
    list(Environment.objects.select_for_update().filter(pk=member.environment_id).values_list("pk", flat=True))
    found = Member.objects.select_related("user", "environment").filter(pk=member.pk).first()
    if found is None:
        raise ValidationError(f"{member.user.get_username()} is no longer a member of {member.environment}")
    return found


def _refuse_the_last_owner(*, member: Member, field: str | None) -> None:
    if member.role != Member.Role.OWNER:
        return
    # A deactivated owner cannot sign in, so does not count as another owner.
    owners = Member.objects.filter(environment_id=member.environment_id, role=Member.Role.OWNER, user__is_active=True)
    if owners.exclude(pk=member.pk).exists():
        return
    message = (
        f"{member.user.get_username()} is the last owner of {member.environment}: make another member an owner first"
    )
    raise ValidationError({field: [message]} if field else message)
