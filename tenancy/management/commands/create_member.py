"""Make a user a Workbench member of an environment and print the membership as one JSON line."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenancy.actors import acting_as, actor_of_command
from tenancy.models import Member
from tenancy.selectors import environment_by_id_or_name
from tenancy.services import member_set
from tenancy.totp import totp_device_replace, totp_uri


class Command(BaseCommand):
    help = (
        "Add a user to an environment (id or name) as owner, editor or viewer, optionally with an email and a TOTP"
        " device; prints the membership as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("environment")
        parser.add_argument("username")
        parser.add_argument("--role", choices=Member.Role.values, default=Member.Role.EDITOR)
        parser.add_argument("--email", help="the address single sign-on matches to this user")
        parser.add_argument(
            "--totp", action="store_true", help="give the user a new TOTP device (replacing any) and print its URI"
        )

    def handle(self, *args, environment, username, role, email, totp, **options):
        found = environment_by_id_or_name(value=environment)
        if found is None:
            raise CommandError(f"no environment {environment!r}")
        try:
            with acting_as(actor_of_command("create_member")), transaction.atomic():
                member, password = member_set(environment=found, username=username, role=role, email=email)
                device = totp_device_replace(user=member.user) if totp else None
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        line = {"username": member.user.username}
        if password is not None:
            line["password"] = password
        line.update({"environment": str(found.pk), "role": member.role})
        if device is not None:
            line["totp_uri"] = totp_uri(device)
        self.stdout.write(json.dumps(line))
