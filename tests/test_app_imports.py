"""The apps depend one way (DESIGN.md), and importing the code starts no JavaScript engine."""

import subprocess
import sys

from tests.app_imports import APPS, ROOT, app_imports


def test_nothing_imports_delivery_but_the_projects_urls():
    importers = {app for app, edges in app_imports().items() if "delivery" in edges}
    assert importers <= {"config"}
    assert app_imports()["config"]["delivery"] == ["config.urls"]


def test_notifications_sits_between_delivery_and_subscriptions():
    """subscriptions announces a resume with a signal instead of importing notifications."""
    edges = app_imports()
    assert "notifications" not in edges["subscriptions"] and "delivery" not in edges["notifications"]
    assert "subscriptions" in edges["notifications"] and "notifications" in edges["delivery"]


def test_outbound_imports_nothing_of_ours():
    assert app_imports().get("outbound", {}) == {}


def test_importing_every_module_but_the_sandbox_child_loads_no_v8():
    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and path.name != "__main__.py"
    ]
    modules.remove("mapping.sandbox_process")
    script = (
        "import os, sys, importlib, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings')\n"
        "django.setup()\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(name for name in sys.modules if 'mini_racer' in name))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr
    assert "mapping.sandbox" in modules and len(modules) > 50
