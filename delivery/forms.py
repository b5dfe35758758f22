"""Forms of the subscription page's delivery tools."""

from django import forms


class RecoverForm(forms.Form):
    since = forms.DateTimeField(label="Since")
