"""Registers Outflow as a client of the provider and makes the provider's users, from one JSON argument."""

import json

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from oauth2_provider.models import Application

from tests.oidc_provider.claims import VERIFIED_GROUP


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("setup", help='{"client_id", "client_secret", "redirect_uris", "users": [...]}')

    def handle(self, *args, setup, **options):
        setup = json.loads(setup)
        Application.objects.create(
            name="Outflow",
            client_id=setup["client_id"],
            client_secret=setup["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(setup["redirect_uris"]),
            skip_authorization=True,
            algorithm=Application.RS256_ALGORITHM,
        )
        verified, _ = Group.objects.get_or_create(name=VERIFIED_GROUP)
        for user in setup["users"]:
            made = User.objects.create_user(user["username"], user["email"], user["password"])
            if user["email_verified"]:
                made.groups.add(verified)
