"""Headless Chromium (Debian's) driven by Playwright, against the live test server."""

import os

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Chromium's own background traffic would be refused on this closed network; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def browser_page():
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        yield page
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def admin_login(live_server, browser_page, transactional_db):
    """Log into the admin through its login form, as a person would."""
    get_user_model().objects.create_superuser("operator", "operator@example.com", "operator-password")

    def login():
        browser_page.goto(f"{live_server.url}/admin/login/")
        browser_page.fill("#id_username", "operator")
        browser_page.fill("#id_password", "operator-password")
        browser_page.click("input[type=submit]")
        browser_page.wait_for_selector("#site-name")
        return browser_page

    return login


@pytest.fixture
def member_sign_in(live_server, browser_page, transactional_db):
    """Make a Workbench member and sign them in through the login form, as a person would."""
    from tenancy.services import member_set

    def sign_in(environment, username: str, role: str = "editor"):
        _, password = member_set(environment=environment, username=username, role=role)
        browser_page.goto(f"{live_server.url}/admin/login/")
        browser_page.fill("#id_username", username)
        browser_page.fill("#id_password", password)
        browser_page.click("input[type=submit]")
        browser_page.wait_for_selector("#site-name")
        return browser_page

    return sign_in
