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
    {"criteria", "evidence", "data", "jobs", "monitoring", "registry", "checklist", "serve"},
    {"render"},  # renderers registered by result type (imports the types below it)
    {"gate"},  # publishes reports, so above render
    # front ends; examples is the documented `python -m readiness.examples` data maker
    {"widgets", "commands", "cli", "magics", "examples", "__init__", "__main__"},
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


# each external tool is imported by its own integrations/ module only (papermill's notebook
# stack, nbformat and nbclient, with it); git runs only through integrations/git.py
TOOLS = {"gto", "papermill", "nbformat", "nbclient", "evidently", "skops", "dvc"}


def tool_uses(source: str) -> list[str]:
    """External tools a module imports (anywhere), and its ``["git", ...]`` commands."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in TOOLS]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.split(".")[0] in TOOLS:
                found.append(node.module)
        elif isinstance(node, (ast.List, ast.Tuple)) and node.elts:
            first = node.elts[0]
            if isinstance(first, ast.Constant) and first.value == "git":
                found.append(f"git command at line {node.lineno}")
    return found


def test_external_tools_only_through_their_integration_module():
    outside = {
        f"readiness.{m}: {use}"
        for m, path in modules().items()
        if not m.startswith("integrations.")
        for use in tool_uses(path.read_text(encoding="utf-8"))
    }
    assert not outside, "use readiness.integrations instead:\n" + "\n".join(sorted(outside))


def unexplained_broad_excepts(source: str) -> list[int]:
    """Lines of ``except Exception`` without a comment on the line saying why it is broad."""
    lines = source.splitlines()
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ExceptHandler)
        and isinstance(node.type, ast.Name)
        and node.type.id == "Exception"
        and "#" not in lines[node.lineno - 1]
    ]


def test_every_broad_except_says_why():
    # tools' errors are translated in readiness.integrations; what stays broad says why
    found = [
        f"readiness.{m}:{line}"
        for m, path in modules().items()
        for line in unexplained_broad_excepts(path.read_text(encoding="utf-8"))
    ]
    assert not found, "catch the translated error, or say why it must be broad: " + str(found)


def test_no_top_level_modules_beside_the_packages():
    loose = sorted(
        p.name for p in PACKAGE.glob("*.py")
        if p.stem not in {"__init__", "__main__", "cli", "magics", "examples"}
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


@pytest.mark.parametrize(
    "source, found",
    [
        ("def f():\n    import gto.api\n", ["gto.api"]),
        ("def f():\n    from evidently import Report\n", ["evidently"]),
        ("import skops.io as sio\n", ["skops.io"]),
        ("from dvc.repo import Repo\n", ["dvc.repo"]),
        ("import papermill\n", ["papermill"]),
        ("subprocess.run(['git', 'add', '--', path], cwd=root)\n", ["git command at line 1"]),
        ("from readiness.integrations import gto\nimport json\n", []),
    ],
)
def test_the_tool_rule_can_fail(source, found):
    # the checker itself: a planted import or git command outside integrations/ is found
    assert tool_uses(source) == found


def test_the_broad_except_rule_can_fail():
    source = "try:\n    f()\nexcept Exception:\n    pass\ntry:\n    g()\n"
    source += "except Exception:  # the user's own model\n    pass\n"
    assert unexplained_broad_excepts(source) == [3]
