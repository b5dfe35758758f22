"""Model fields whose values are stored encrypted (config/encryption.py) and read back in clear: any app's secrets."""

import json

from django.db import models

from config.encryption import decrypt, encrypt


class EncryptedTextField(models.TextField):
    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)


class EncryptedJSONField(models.TextField):
    """A JSON object, encrypted whole."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(decrypt(value))

    def to_python(self, value):
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value):
        return None if value is None else encrypt(json.dumps(value))
