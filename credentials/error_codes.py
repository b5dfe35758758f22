"""Stable machine codes of the credentials app's API errors."""

CREDENTIAL_IN_USE = "credential_in_use"
SECRET_REQUIRED = "secret_required"
