"""The apps depend one way (DESIGN.md; `python -m tests.app_imports` prints how), and importing the code starts no
JavaScript engine."""

import subprocess
import sys

from tests.app_imports import APPS, ROOT, app_imports


def _cycle(graph: dict[str, dict[str, list[str]]]) -> list[str]:
    """One cycle of app imports (each app in it, the first again at the end), or [] when there is none."""
    done: set[str] = set()

    def visit(app: str, path: list[str]) -> list[str]:
        if app in path:
            return [*path[path.index(app) :], app]
        if app in done:
            return []
        for other in graph.get(app, {}):
            if found := visit(other, [*path, app]):
                return found
        done.add(app)
        return []

    for app in graph:
        if found := visit(app, []):
            return found
    return []


def test_no_apps_import_each_other_round_a_cycle():
    graph = app_imports()
    assert _cycle(graph) == [], {app: graph[app] for app in _cycle(graph)}


def test_the_cycle_check_finds_one():
    assert _cycle({"a": {"b": ["a.x"]}, "b": {"c": ["b.y"]}, "c": {"a": ["c.z"]}}) == ["a", "b", "c", "a"]


def test_config_imports_no_app_of_ours():
    """The project's URLs include the apps' URLs by name, so settings, errors and the rest sit under every app."""
    assert app_imports().get("config", {}) == {}


def test_tenancy_imports_only_config():
    assert set(app_imports().get("tenancy", {})) <= {"config"}


def test_subscriptions_name_credentials_and_credentials_not_subscriptions():
    edges = app_imports()
    assert "credentials" in edges["subscriptions"] and "subscriptions" not in edges["credentials"]


def test_nothing_imports_delivery():
    assert {app for app, edges in app_imports().items() if "delivery" in edges} == set()


def test_notifications_sits_between_delivery_and_subscriptions():
    """subscriptions announces a resume with a signal instead of importing notifications."""
    edges = app_imports()
    assert "notifications" not in edges["subscriptions"] and "delivery" not in edges["notifications"]
    assert "subscriptions" in edges["notifications"] and "notifications" in edges["delivery"]


def test_audit_sits_under_the_apps_whose_changes_it_records_and_over_tenancy():
    """The services of subscriptions, credentials and notifications write its entries; tenancy announces its changes
    with a signal (tenancy/signals.py: configuration_changed) that audit/receivers.py records."""
    edges = app_imports()
    assert set(edges["audit"]) <= {"config", "tenancy"}
    assert {"subscriptions", "credentials", "notifications"} <= {app for app, uses in edges.items() if "audit" in uses}
    assert "audit" not in edges.get("tenancy", {})


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
