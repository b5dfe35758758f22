"""Members in the Workbench, in Chromium: an owner adds someone (whose password, shown once, signs them in), changes a
role and removes a member, and is told why the last owner stays; editors and viewers are offered no members page;
another environment's owner reaches none of ours."""

import os
from pathlib import Path

import pytest

from tenancy.models import Member
from tenancy.services import environment_create, member_set

pytestmark = pytest.mark.browser


def _member(environment, username: str) -> Member:
    return Member.objects.get(environment=environment, user__username=username)


def _usernames(page) -> list[str]:
    page.wait_for_selector("#result_list")
    return page.locator("#result_list tbody th a").all_inner_texts()


def _palette_labels(page, typed: str) -> str:
    page.keyboard.press("Control+k")
    page.wait_for_selector("#palette[open] #palette-results li")
    page.keyboard.type(typed)
    page.wait_for_timeout(100)
    return page.inner_text("#palette-results")


def test_an_owner_adds_changes_and_removes_members_and_keeps_an_owner(
    member_sign_in, live_server, environment, browser_page, tmp_path
):
    member_set(environment=environment, username="ed", role="editor")
    page = member_sign_in(environment, "olive", "owner")
    page.click("#content-main a[href='/admin/tenancy/member/']")
    assert _usernames(page) == ["ed", "olive"]
    headings = [text.strip() for text in page.locator("#result_list thead th").all_text_contents()]
    assert headings[:3] == ["Username", "Environment", "Role"]

    page.click(".object-tools a.addlink")
    page.wait_for_selector("#id_username")
    assert page.get_by_label("Username").is_visible() and page.get_by_label("Role").is_visible()
    page.get_by_label("Username").fill("nia")
    page.get_by_label("Role").select_option("viewer")
    page.click("input[name=_save]")
    page.wait_for_selector("#member-password")
    password = page.inner_text("#member-password")
    assert "nia" in page.inner_text("#member-added") and "viewer" in page.inner_text("#member-added")
    assert _member(environment, "nia").role == "viewer"

    newcomer = browser_page.context.browser.new_page()
    newcomer.goto(f"{live_server.url}/admin/login/")
    newcomer.fill("#id_username", "nia")
    newcomer.fill("#id_password", password)
    newcomer.click("input[type=submit]")
    newcomer.wait_for_selector("#site-name")
    assert "acme" in newcomer.inner_text("header")
    newcomer.close()

    page.click("text=Back to the members")
    page.wait_for_selector("#result_list")
    # OUTFLOW_SCREENSHOT_DIR=docs refreshes the screenshot kept in docs/.
    page.screenshot(path=str(Path(os.environ.get("OUTFLOW_SCREENSHOT_DIR", tmp_path)) / "workbench-members.png"))
    page.click("#result_list a:text-is('nia')")
    page.wait_for_selector("#id_role")
    page.get_by_label("Role").select_option("editor")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert _member(environment, "nia").role == "editor"

    page.click("#result_list a:text-is('nia')")
    page.click("a.deletelink")
    page.click("#content input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert not Member.objects.filter(environment=environment, user__username="nia").exists()

    page.click("#result_list a:text-is('olive')")
    page.wait_for_selector("#id_role")
    page.get_by_label("Role").select_option("editor")
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")
    assert "olive is the last owner of acme: make another member an owner first" in page.inner_text(".errorlist")
    page.goto(f"{live_server.url}/admin/tenancy/member/{_member(environment, 'olive').pk}/change/")
    page.click("a.deletelink")
    page.wait_for_selector(".messagelist .error")
    assert "Not removed: olive is the last owner of acme" in page.inner_text(".messagelist")
    assert _member(environment, "olive").role == "owner"


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_are_offered_no_members_page(member_sign_in, live_server, environment, role):
    page = member_sign_in(environment, "mo", role)
    assert page.locator("a[href*='/admin/tenancy/member/']").count() == 0
    labels = _palette_labels(page, "member")
    assert "Members" not in labels and "New member" not in labels
    response = page.goto(f"{live_server.url}/admin/tenancy/member/")
    assert response.status == 403 and "Your role does not allow this" in page.inner_text("#content")
    olive, _ = member_set(environment=environment, username="olive", role="owner")
    response = page.goto(f"{live_server.url}/admin/tenancy/member/{olive.pk}/change/")
    assert response.status in (403, 404) and "olive" not in page.content()


def test_another_environment_s_owner_reaches_none_of_our_members(member_sign_in, live_server, environment):
    ours, _ = member_set(environment=environment, username="ed", role="editor")
    other, _ = environment_create(name="globex")
    page = member_sign_in(other, "gail", "owner")
    page.goto(f"{live_server.url}/admin/tenancy/member/")
    assert _usernames(page) == ["gail"]
    for action in ("change", "delete", "history"):
        response = page.goto(f"{live_server.url}/admin/tenancy/member/{ours.pk}/{action}/")
        assert response.status == 404 and "ed (" not in page.content()
    page.goto(f"{live_server.url}/admin/tenancy/member/add/")
    options = page.locator("#id_environment option").all_inner_texts()
    assert "acme" not in options and "globex" in options
    assert _member(environment, "ed").role == "editor"
