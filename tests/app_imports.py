"""Which of Outflow's apps import which, read from the source: `python -m tests.app_imports` prints the graph."""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "config",
    "tenancy",
    "subscriptions",
    "credentials",
    "outbound",
    "delivery",
    "mapping",
    "requestlog",
    "notifications",
    "audit",
)


def app_imports() -> dict[str, dict[str, list[str]]]:
    """App → app it imports → the modules of the first app that do (migrations left out)."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                for name in names:
                    imported = name.split(".")[0]
                    if imported in APPS and imported != app:
                        graph[app][imported].add(module)
    return {app: {other: sorted(modules) for other, modules in sorted(edges.items())} for app, edges in graph.items()}


if __name__ == "__main__":
    for app, edges in sorted(app_imports().items()):
        for other, modules in edges.items():
            print(f"{app} -> {other}: {', '.join(modules)}")
