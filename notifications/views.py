"""The page a confirmation mail links to: GET asks, POST confirms (a mail scanner that fetches links confirms
nothing)."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from notifications.addresses import confirmation_token_read
from notifications.confirmation import email_confirm

_PAGE = "notifications/email_confirm.html"


@require_http_methods(["GET", "POST"])
def email_confirm_page(request, token: str):
    if request.method == "GET":
        claims = confirmation_token_read(token)
        if claims is None:
            return render(request, _PAGE, {"state": "invalid"}, status=400)
        return render(request, _PAGE, {"state": "ask", "email": claims["email"]})
    email = email_confirm(token=token)
    if email is None:
        return render(request, _PAGE, {"state": "invalid"}, status=400)
    return render(request, _PAGE, {"state": "confirmed", "email": email})
