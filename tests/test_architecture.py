"""The import rules of docs/architecture.md: layers import downwards, and no module circles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "readiness"

# lowest first: a layer imports only from its own layer and the ones before it
LAYERS = [
    {"core"},
    {"integrations"},
    {"criteria", "evidence", "data", "jobs", "monitoring", "registry", "checklist"},
    {"render"},  # renderers registered by result type (imports the types below it)
    {"gate"},  # publishes reports, so above render
    {"widgets", "commands", "cli", "magics", "__init__", "__main__"},
]
# upward calls made on purpose, each inside a function: a result renders itself, a batch
# shows its live progress widget in a notebook
ALLOWED_UPWARD = {
    ("core.results", "render"),
    ("jobs.progress", "widgets.frontend"),
    ("jobs.progress", "widgets.progress_widget"),
}
# cross-capability edges inside the domain layer are fine, but they must not form a circle
# (checked below over modules, not packages)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """readiness modules ``path`` imports anywhere (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == "readiness":
                names = [a.name for a in node.names]
            elif node.module.startswith("readiness."):
                base = node.module[len("readiness."):]
                names = [f"{base}.{a.name}" for a in node.names] + [base]
        elif isinstance(node, ast.Import):
            names = [a.name[len("readiness."):] for a in node.names
                     if a.name.startswith("readiness.")]
        for name in names:
            # the deepest known module the name refers to (a symbol's module, or a module)
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def layer_of(module: str) -> int:
    top = module.split(".")[0] or "__init__"
    for index, layer in enumerate(LAYERS):
        if top in layer:
            return index
    raise AssertionError(f"readiness.{module} belongs to no layer: add its package to LAYERS")


GRAPH = {m: imports_of(p, set(modules())) - {m} for m, p in modules().items()}


def test_every_module_has_a_layer_and_imports_downwards():
    upward = sorted(
        f"readiness.{m} -> readiness.{d}"
        for m, deps in GRAPH.items()
        for d in deps
        if layer_of(d) > layer_of(m) and (m, d) not in ALLOWED_UPWARD and d != ""
    )
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_no_top_level_modules_beside_the_packages():
    loose = sorted(
        p.name for p in PACKAGE.glob("*.py")
        if p.stem not in {"__init__", "__main__", "cli", "magics"}
    )
    assert not loose, f"modules at the top of readiness/ (put them in a package): {loose}"


def _cycle() -> list[str] | None:
    graph = {m: {d for d in deps if (m, d) not in ALLOWED_UPWARD} for m, deps in GRAPH.items()}
    # a package's __init__ that re-exports its modules is not a circle with them
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if dep.startswith(node + "."):
                continue
            if state.get(dep) == 1:
                return [*stack[stack.index(dep):], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_circles():
    cycle = _cycle()
    assert cycle is None, "an import circle: " + " -> ".join(f"readiness.{m}" for m in cycle)


@pytest.mark.parametrize("rule", ["a core module imports a checklist module"])
def test_the_rules_can_fail(rule, tmp_path):
    # the checker itself: a planted upward import is found
    planted = {"core.project": {"checklist.scorecard"}}
    upward = [
        (m, d) for m, deps in planted.items() for d in deps if layer_of(d) > layer_of(m)
    ]
    assert upward == [("core.project", "checklist.scorecard")], rule
