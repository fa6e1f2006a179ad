"""Imports go one way: views → services → tasks → operations → (plans, state, commands) →
executor. No cycle, and no import hidden inside a function to dodge one."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("panel", "servers", "deployments", "backups", "monitoring", "runbooks")
# Highest first; a module may import its own layer and those below it. "entry" wires the
# project together (settings, URLs, the Celery app); "base" is what everything may use.
LAYERS = ("entry", "views", "services", "tasks", "operations", "state", "executor", "base")
ENTRY = {"panel", "panel.celery", "panel.urls", "panel.settings", "panel.asgi", "panel.wsgi"}
EXECUTOR = {"servers.ssh", "servers.ssh_pool", "servers.ssh_types", "servers.tunnel_http"}
BASE = {"panel.errors", "panel.sensitive", "panel.log_kinds"}
SERVICES = {"panel.teams", "panel.api.tokens", "panel.jobs.services"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if module in ENTRY or parts[-1] == "urls":
        return "entry"
    if module in BASE:
        return "base"
    if module in EXECUTOR:
        return "executor"
    if module in SERVICES or parts[-1] == "services" or parts[-1].endswith("_services"):
        return "services"
    if parts[-1] == "tasks":
        return "tasks"
    if "operations" in parts or parts[-1] == "signals":
        return "operations"
    view_parts = {"views", "api", "urls", "middleware", "context_processors", "logs", "forms"}
    if view_parts & set(parts[1:]) or parts[-1].endswith(("_views", "_forms")):
        return "views"
    if "management" in parts:
        return "views"
    return "state"


def modules() -> Iterator[tuple[str, Path]]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            relative = path.relative_to(ROOT).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def project_imports(tree: ast.AST, module: str) -> Iterator[tuple[str, ast.AST, bool]]:
    """(imported project module, node, inside a function) for every import in the tree."""
    functions = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    nested = {id(sub) for f in functions for sub in ast.walk(f) if sub is not f}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from panel import audit` imports the module panel.audit, not the package.
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in KNOWN
                else node.module
                for alias in node.names
            ]
        for name in names:
            if name.split(".")[0] in APPS:
                yield name, node, id(node) in nested


KNOWN = dict(modules())


def _resolve(name: str) -> str | None:
    while name and name not in KNOWN:
        name = name.rpartition(".")[0]
    return name or None


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module, path in KNOWN.items():
        tree = ast.parse(path.read_text())
        edges[module] = set()
        for name, _, inside in project_imports(tree, module):
            target = _resolve(name)
            if target and target != module and not inside:
                edges[module].add(target)
    return edges


def test_no_project_import_is_hidden_inside_a_function() -> None:
    hidden = []
    for module, path in KNOWN.items():
        tree = ast.parse(path.read_text())
        for name, node, inside in project_imports(tree, module):
            # An app's ready() is where Django wants signal and hook registration.
            if inside and not (module.endswith(".apps")):
                hidden.append(f"{module}:{getattr(node, 'lineno', '?')} imports {name}")
    assert not hidden, hidden


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if not state.get(target):
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(edges):
        if not state.get(module):
            visit(module)


def test_imports_only_go_down_the_layers() -> None:
    upward = []
    for module, targets in graph().items():
        for target in targets:
            if LAYERS.index(layer_of(target)) < LAYERS.index(layer_of(module)):
                upward.append(
                    f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
                )
    assert not upward, upward
