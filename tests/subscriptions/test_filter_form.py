"""The Workbench's Filter field: JSON edited as text, the API's checks and words, the export settings' warning."""

import json

import pytest

from subscriptions.models import Subscription
from subscriptions.services import subscription_create
from tests.factories import member_client, subscription_form_data

URL = "http://127.0.0.1:9/hook"
ADD = "/admin/subscriptions/subscription/add/"


@pytest.fixture
def editor(environment):
    return member_client(environment, "ed")


def _form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return {name: list(messages) for name, messages in form.errors.items()}


def test_an_editor_adds_a_subscription_with_a_filter_and_sees_it_again(editor, environment):
    spec = {"cardContext.cardTemplateId": {"$in": ["card-7"]}, "$not": {"test": True}}
    assert ">Filter:</label>" in editor.get(ADD).content.decode()
    response = editor.post(ADD, subscription_form_data(environment, filter=json.dumps(spec)))
    assert response.status_code == 302, _form_errors(response)
    subscription = Subscription.objects.get()
    assert subscription.filter == spec
    page = editor.get(f"/admin/subscriptions/subscription/{subscription.pk}/change/").content.decode()
    assert "&quot;cardContext.cardTemplateId&quot;: {" in page


def test_an_empty_filter_field_is_no_filter(editor, environment):
    subscription = subscription_create(
        environment=environment, name="s", event_types=["card-completed"], url=URL, filter={"endUserId": "u"}
    )
    change = f"/admin/subscriptions/subscription/{subscription.pk}/change/"
    response = editor.post(change, subscription_form_data(environment, filter="  \n"))
    assert response.status_code == 302, _form_errors(response)
    subscription.refresh_from_db()
    assert subscription.filter is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"endUserId": {"$regex": "^u"}}', "endUserId: unknown operator $regex"),
        ('{"$or": [{"a": {"$gt": []}}]}', "$or[0] > a: $gt compares with a number or a string, not a list"),
        ('["a"]', "a filter is a JSON object, not a list"),
        ('{"a": ', "Not valid JSON: "),
        ("[" * 5000 + "]" * 5000, "Not valid JSON: "),
    ],
)
def test_the_form_refuses_what_the_api_refuses(editor, environment, text, message):
    response = editor.post(ADD, subscription_form_data(environment, filter=text))
    errors = _form_errors(response)
    assert list(errors) == ["filter"] and errors["filter"][0].startswith(message), errors
    assert not Subscription.objects.exists()


def test_a_filter_on_removed_fields_is_saved_with_a_warning(editor, environment):
    spec = {"properties.values.rating": 5}
    response = editor.post(ADD, subscription_form_data(environment, filter=json.dumps(spec)), follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert (
        "filter: properties.values.rating is removed by the export settings (Card response data is off), so the"
        " filter always sees it as missing"
    ) in shown
    assert Subscription.objects.get().filter == spec
