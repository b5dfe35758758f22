"""Print why a delivery has not gone (its `waiting_on`) as one JSON line."""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from delivery.explain import delivery_explain
from delivery.models import Delivery


class Command(BaseCommand):
    help = "Explain a delivery by its id: final, sending, back_off, paused, ordered, queued and the other reasons."

    def add_arguments(self, parser):
        parser.add_argument("delivery_id")

    def handle(self, *args, delivery_id, **options):
        try:
            delivery = Delivery.objects.select_related("subscription").filter(pk=delivery_id).first()
        except ValidationError as error:
            raise CommandError(f"not a delivery id: {delivery_id}") from error
        if delivery is None:
            raise CommandError(f"no delivery {delivery_id}")
        self.stdout.write(json.dumps(delivery_explain(delivery=delivery).as_dict()))
