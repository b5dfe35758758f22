"""Serializers of the credentials API: secret values are write-only; reads show `<field>_set`."""

from rest_framework import serializers

from credentials.models import Credential
from credentials.types import ALL_FIELDS, BOOLEAN_FIELDS, CREDENTIAL_FIELDS

# Kept beside a TLS credential's certificate when it is saved (credentials/services.py), shown on every read.
TLS_SUMMARY_FIELDS = ("certificate_subject", "certificate_issuer", "certificate_expires_at")


class CredentialWriteSerializer(serializers.Serializer):
    """Shapes only: which values belong to the type, and their rules, are the service's to check."""

    name = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=Credential.Type.choices)

    def get_fields(self):
        fields = super().get_fields()
        for name in ALL_FIELDS:
            fields[name] = (
                serializers.BooleanField(required=False)
                if name in BOOLEAN_FIELDS
                else serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, write_only=True)
            )
        return fields

    def to_internal_value(self, data):
        validated = super().to_internal_value(data)
        validated["values"] = {name: validated.pop(name) for name in ALL_FIELDS if name in validated}
        return validated


class CredentialSerializer(serializers.ModelSerializer):
    class Meta:
        model = Credential
        fields = ["id", "name", "type", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name, spec in CREDENTIAL_FIELDS[instance.type].items():
            if spec.secret:
                data[f"{name}_set"] = bool(instance.secrets.get(name))
            else:
                data[name] = instance.settings.get(name)
        if instance.type == Credential.Type.TLS:
            for name in TLS_SUMMARY_FIELDS:
                data[name] = instance.settings.get(name)
        return data


class CredentialCheckSerializer(serializers.Serializer):
    """What `check` found; which keys an answer has depends on the type (documented in docs/CREDENTIALS.md)."""

    ok = serializers.BooleanField(allow_null=True)
    message = serializers.CharField()


class SendRequestSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=["GET", "POST", "PUT", "PATCH", "DELETE"])
    url = serializers.CharField(max_length=2048)
    headers = serializers.DictField(child=serializers.CharField(allow_blank=True, trim_whitespace=False), default=dict)
    body = serializers.JSONField(required=False, allow_null=True, default=None)
    credential = serializers.UUIDField(required=False, allow_null=True, default=None)
    tls_credential = serializers.UUIDField(required=False, allow_null=True, default=None)


class SendRequestResultSerializer(serializers.Serializer):
    status = serializers.IntegerField(allow_null=True)
    headers = serializers.DictField(child=serializers.CharField())
    body = serializers.JSONField(allow_null=True)
    duration_ms = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)
