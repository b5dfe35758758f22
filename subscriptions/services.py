"""Services that change export settings and subscriptions."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.changes import MASK, changes_between, mapping_shown
from audit.services import audit_record
from config.errors import ApiError
from credentials.selectors import credential_for_use, tls_credential_for_use
from mapping.sandbox import mapping_syntax_error
from outbound.masking import headers_unmasked, masked_headers, masked_url
from outbound.signing_secrets import ROTATION_FIELDS, signing_secret_new, signing_secret_rotate, signing_secrets_active
from outbound.validation import header_errors, url_errors
from subscriptions import error_codes
from subscriptions.models import EventType, ExportSettings, Subscription
from subscriptions.payload_filters import FilterError, FilterLimits, filter_compile
from subscriptions.signals import subscription_resumed
from tenancy.actors import SYSTEM
from tenancy.models import Environment

_EXPORT_SETTINGS_FIELDS = ("include_test_events", "include_request_payload", "include_card_response_data")


def export_settings_update(*, environment: Environment, **changes: bool) -> ExportSettings:
    with transaction.atomic():
        export_settings, _ = ExportSettings.objects.select_for_update().get_or_create(environment=environment)
        before = {name: getattr(export_settings, name) for name in _EXPORT_SETTINGS_FIELDS}
        for name, value in changes.items():
            setattr(export_settings, name, value)
        export_settings.save()
        if audited := changes_between(
            before, {name: getattr(export_settings, name) for name in _EXPORT_SETTINGS_FIELDS}
        ):
            audit_record(
                environment_id=environment.pk,
                action="export_settings.updated",
                object_id=export_settings.pk,
                object_name=str(export_settings),
                changes=audited,
            )
    return export_settings


def filter_errors(spec: object) -> list[str]:
    """Why a payload filter is refused (each problem naming its path), or nothing; null is no filter."""
    if spec is None:
        return []
    limits = FilterLimits(
        max_bytes=settings.OUTFLOW_FILTER_MAX_BYTES,
        max_depth=settings.OUTFLOW_FILTER_MAX_DEPTH,
        max_paths=settings.OUTFLOW_FILTER_MAX_PATHS,
    )
    try:
        filter_compile(spec, limits=limits)
    except FilterError as error:
        return error.problems
    return []


def _validate(
    *,
    environment: Environment,
    url: str | None,
    headers: dict | None,
    event_types: list[str] | None,
    mapping: str | None = None,
    payload_filter: object = None,
) -> list[EventType] | None:
    errors: dict[str, list[str]] = {}
    if mapping and (problem := mapping_syntax_error(script=mapping, environment_id=environment.pk)):
        errors["mapping"] = [str(problem)]
    if problems := filter_errors(payload_filter):
        errors["filter"] = problems
    if url is not None:
        if problems := url_errors(url, allow_private=settings.OUTFLOW_ALLOW_PRIVATE_TARGETS):
            errors["url"] = problems
    if headers is not None:
        if problems := header_errors(headers):
            errors["headers"] = problems
    known = None
    if event_types is not None:
        if not event_types:
            errors["event_types"] = ["at least one event type is required"]
        else:
            known = list(EventType.objects.filter(name__in=set(event_types)))
            unknown = sorted(set(event_types) - {event_type.name for event_type in known})
            if unknown:
                errors["event_types"] = [f"unknown event type {name!r}" for name in unknown]
    if errors:
        raise ValidationError(errors)
    return known


def subscription_create(
    *,
    environment: Environment,
    name: str,
    event_types: list[str],
    url: str,
    method: str = Subscription.Method.POST,
    card: str | None = None,
    headers: dict[str, str] | None = None,
    credential: uuid.UUID | None = None,
    tls_credential: uuid.UUID | None = None,
    mapping: str | None = None,
    filter: dict | None = None,
    max_retries: int = 23,
    auto_disable: bool = True,
    rate_limit: int | None = None,
    send_traceparent: bool = False,
    ordered: bool = False,
) -> Subscription:
    headers = headers or {}
    known = _validate(
        environment=environment,
        url=url,
        headers=headers,
        event_types=event_types,
        mapping=mapping,
        payload_filter=filter,
    )
    subscription = Subscription(
        environment=environment,
        name=name,
        card=card or None,
        method=method,
        url=url,
        headers=headers,
        credential=credential_for_use(environment=environment, credential_id=credential),
        tls_credential=tls_credential_for_use(environment=environment, credential_id=tls_credential),
        mapping=mapping or None,
        filter=filter,
        max_retries=max_retries,
        auto_disable=auto_disable,
        rate_limit=rate_limit,
        send_traceparent=send_traceparent,
        ordered=ordered,
        secret=signing_secret_new(),
    )
    subscription.full_clean(exclude=["secret"])
    with transaction.atomic():
        Environment.objects.select_for_update().get(pk=environment.pk)
        if Subscription.objects.filter(environment=environment).count() >= settings.OUTFLOW_MAX_SUBSCRIPTIONS:
            raise ApiError(
                error_codes.SUBSCRIPTION_LIMIT,
                f"an environment has at most {settings.OUTFLOW_MAX_SUBSCRIPTIONS} subscriptions",
                status_code=409,
            )
        subscription.save()
        subscription.event_types.set(known)
        _audit(subscription, "subscription.created", {}, _audited(subscription))
    return subscription


_EDITABLE = {
    "name",
    "event_types",
    "url",
    "method",
    "card",
    "headers",
    "credential",
    "tls_credential",
    "mapping",
    "filter",
    "max_retries",
    "auto_disable",
    "rate_limit",
    "send_traceparent",
    "ordered",
}


# How the audit log shows a subscription's values: header values and URL query values under secret-looking names
# masked (as the API and the request log show them), the mapping by its size and hash.
_AUDIT_SHOWN = {
    "headers": lambda headers: masked_headers(headers) if headers is not None else None,
    "url": lambda url: masked_url(url) if url is not None else None,
    "mapping": mapping_shown,
}


def _audited(subscription: Subscription) -> dict:
    """The editable fields' values as stored (a foreign key as its id, the event types as sorted names)."""
    values = {}
    for name in sorted(_EDITABLE):
        field = Subscription._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(getattr(subscription, name).values_list("pk", flat=True))
        elif field.is_relation:
            value = getattr(subscription, field.attname)
            values[name] = None if value is None else str(value)
        else:
            values[name] = getattr(subscription, name)
    return values


def _audit(subscription: Subscription, action: str, before: dict, after: dict) -> None:
    audit_record(
        environment_id=subscription.environment_id,
        action=action,
        object_id=subscription.pk,
        object_name=subscription.name,
        changes=changes_between(before, after, shown=_AUDIT_SHOWN),
    )


def subscription_update(*, subscription: Subscription, **changes) -> Subscription:
    """Change editable fields; the card scope is fixed once saved."""
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "card" in changes and (changes.pop("card") or None) != subscription.card:
        raise ValidationError({"card": ["the card scope cannot be changed once the subscription is saved"]})
    event_types = changes.pop("event_types", None)
    if changes.get("headers") is not None:
        changes["headers"] = headers_unmasked(changes["headers"], stored=subscription.headers)
    known = _validate(
        environment=subscription.environment,
        url=changes.get("url"),
        headers=changes.get("headers"),
        event_types=event_types,
        mapping=changes.get("mapping"),
        payload_filter=changes.get("filter"),
    )
    if "mapping" in changes:
        changes["mapping"] = changes["mapping"] or None
        # A new script starts its own run of failures.
        changes["mapping_failures"] = 0
    if "credential" in changes:
        changes["credential"] = credential_for_use(
            environment=subscription.environment, credential_id=changes["credential"]
        )
    if "tls_credential" in changes:
        changes["tls_credential"] = tls_credential_for_use(
            environment=subscription.environment, credential_id=changes["tls_credential"]
        )
    before = _audited(subscription)
    for name, value in changes.items():
        setattr(subscription, name, value)
    subscription.full_clean(exclude=["secret"])
    with transaction.atomic():
        # Only the fields changed here: a concurrent pause or secret rotation must not be written back.
        subscription.save(update_fields=[*changes, "updated_at"])
        if known is not None:
            subscription.event_types.set(known)
        after = _audited(subscription)
        if after != before:
            _audit(subscription, "subscription.updated", before, after)
    return subscription


def subscription_delete(*, subscription: Subscription) -> None:
    """Delete the subscription with its deliveries and request log, also while some are in flight: its row is locked
    first, so a drain recording a batch of it (which holds the row while it writes) finishes before the delete
    collects what to remove, and a drain that records after it finds the subscription gone and stores nothing."""
    with transaction.atomic():
        if Subscription.objects.select_for_update().filter(pk=subscription.pk).exists():
            _audit(subscription, "subscription.deleted", _audited(subscription), {})
            subscription.delete()


def _pause_changes(before: Subscription.Status, reason_before: str, reason: str) -> dict:
    return changes_between(
        {"status": before, "paused_reason": reason_before},
        {"status": Subscription.Status.PAUSED, "paused_reason": reason},
    )


def subscription_pause(*, subscription: Subscription, reason: str) -> Subscription:
    changes = _pause_changes(subscription.status, subscription.paused_reason, reason)
    subscription.status = Subscription.Status.PAUSED
    subscription.paused_reason = reason
    subscription.paused_at = timezone.now()
    with transaction.atomic():
        subscription.save(update_fields=["status", "paused_reason", "paused_at", "updated_at"])
        audit_record(
            environment_id=subscription.environment_id,
            action="subscription.paused",
            object_id=subscription.pk,
            object_name=subscription.name,
            changes=changes,
        )
    return subscription


def subscription_pause_by_id(*, subscription_id, reason: str) -> bool:
    """Pause from a worker (Outflow's own doing, audited as the system): a conditional update, so concurrent final
    failures pause once. Call it inside the transaction that records the failure, so the entry commits with it."""
    with transaction.atomic():
        paused = Subscription.objects.filter(pk=subscription_id, status=Subscription.Status.ACTIVE).update(
            status=Subscription.Status.PAUSED,
            paused_reason=reason,
            paused_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if paused:
            environment_id, name = Subscription.objects.values_list("environment_id", "name").get(pk=subscription_id)
            audit_record(
                environment_id=environment_id,
                action="subscription.paused",
                object_id=subscription_id,
                object_name=name,
                changes=_pause_changes(Subscription.Status.ACTIVE, "", reason),
                actor=SYSTEM,
            )
    return bool(paused)


def subscription_resume(*, subscription: Subscription) -> Subscription:
    """Active again; a resume that found it paused is announced (subscription_resumed) in the same transaction."""
    with transaction.atomic():
        was_paused = Subscription.objects.filter(pk=subscription.pk, status=Subscription.Status.PAUSED).update(
            status=Subscription.Status.ACTIVE,
            paused_reason="",
            paused_at=None,
            # A run of deliveries failed by the mapping starts again: one more must not pause it at once.
            mapping_failures=0,
            updated_at=timezone.now(),
        )
        subscription.refresh_from_db(fields=["status", "paused_reason", "paused_at", "updated_at"])
        if was_paused:
            subscription_resumed.send(sender=Subscription, subscription=subscription)
            audit_record(
                environment_id=subscription.environment_id,
                action="subscription.resumed",
                object_id=subscription.pk,
                object_name=subscription.name,
                changes={"status": [Subscription.Status.PAUSED, Subscription.Status.ACTIVE]},
            )
    return subscription


def subscription_secret_rotate(*, subscription: Subscription) -> Subscription:
    """A new signing secret; the old one keeps signing alongside for OUTFLOW_SECRET_ROTATION_HOURS."""
    signing_secret_rotate(
        subscription, now=timezone.now(), grace=timedelta(hours=settings.OUTFLOW_SECRET_ROTATION_HOURS)
    )
    with transaction.atomic():
        subscription.save(update_fields=[*ROTATION_FIELDS, "updated_at"])
        audit_record(
            environment_id=subscription.environment_id,
            action="subscription.secret_rotated",
            object_id=subscription.pk,
            object_name=subscription.name,
            changes={"secret": [MASK, MASK]},
        )
    return subscription


def subscription_signing_secrets(*, subscription: Subscription) -> list[str]:
    """The secrets to sign with now: the current one, and the previous one during a rotation."""
    return signing_secrets_active(subscription, now=timezone.now())
