"""A model field whose value is stored encrypted (Fernet) and read back as plain text."""

from django.db import models

from credentials.encryption import decrypt, encrypt


class EncryptedTextField(models.TextField):
    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
