"""The page a confirmation mail links to: GET asks, POST confirms (a mail scanner that fetches links confirms
nothing)."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from notifications.confirmation import email_confirm

_PAGE = "notifications/email_confirm.html"


@require_http_methods(["GET", "POST"])
def email_confirm_page(request):
    if request.method == "GET":
        # The token is in the link's fragment, which stays in the browser (notifications.addresses.confirmation_url).
        return render(request, _PAGE, {"state": "ask"})
    email = email_confirm(token=request.POST.get("token", ""))
    if email is None:
        return render(request, _PAGE, {"state": "invalid"}, status=400)
    return render(request, _PAGE, {"state": "confirmed", "email": email})
