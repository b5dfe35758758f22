"""The request log page's date range: from and to a day (UTC, both included), as a small GET form in the filters."""

from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone


class CreatedBetweenFilter(admin.ListFilter):
    title = "date (UTC)"
    template = "admin/requestlog/date_range_filter.html"
    parameters = ("from", "to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.days: dict[str, date] = {}
        self.other_params = {
            name: value[-1] if isinstance(value, list) else value
            for name, value in params.items()
            if name not in self.parameters
        }
        for name in self.parameters:
            value = params.pop(name, None)
            value = value[-1] if isinstance(value, list) else value
            if not value:
                continue
            try:
                self.days[name] = date.fromisoformat(value)
            except ValueError as error:
                raise IncorrectLookupParameters(f"{name}: not a date (YYYY-MM-DD)") from error

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.parameters)

    def choices(self, changelist):
        yield {
            "from": self.days.get("from"),
            "to": self.days.get("to"),
            "other_params": sorted(self.other_params.items()),
            "clear_url": changelist.get_query_string(remove=list(self.parameters)),
        }

    def queryset(self, request, queryset):
        if "from" in self.days:
            queryset = queryset.filter(created_at__gte=_midnight(self.days["from"]))
        if "to" in self.days:
            queryset = queryset.filter(created_at__lt=_midnight(self.days["to"] + timedelta(days=1)))
        return queryset


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
