"""A notebook's parameters (the cell tagged ``parameters``) and checking values against them.

Parsed with Python's own ``ast`` rather than papermill's regular expressions, so
annotations such as ``int | None`` and multi-line literals are understood. A value
is checked before any kernel starts: unknown names and wrong types are refused with
the list of accepted parameters, their types and defaults.
"""

from __future__ import annotations

import ast
import keyword
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readiness.core.errors import NotebookError, UsageError
from readiness.core.fsutil import require_file

_NAMES = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "tuple": tuple,
    "None": type(None),
    "NoneType": type(None),
}


@dataclass(frozen=True)
class Parameter:
    name: str
    type_name: str  # "int", "float | None", "any"
    default: Any  # the literal default (None when it is an expression)
    default_source: str
    literal: bool = True  # False: the default is an expression (``default`` is then None)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` fits the declared or inferred type."""
        if self.type_name == "any":
            return True
        for part in (p.strip() for p in self.type_name.split("|")):
            expected = _NAMES.get(part)
            if expected is None:
                return True  # a type we cannot check (Path, a class): let the notebook decide
            if (
                expected is float
                and isinstance(value, (int, float))
                and not isinstance(value, bool)
            ):
                return True
            if expected is int and isinstance(value, bool):
                continue
            if expected in (list, tuple) and isinstance(value, (list, tuple)):
                return True
            if isinstance(value, expected):
                return True
        return False

    def describe(self) -> str:
        return f"{self.name} ({self.type_name}, default {self.default_source})"


def _annotation(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    text = ast.unparse(node)
    if text.startswith("Optional[") and text.endswith("]"):
        text = f"{text[9:-1]} | None"
    return text.replace("typing.", "")


def _type_of(value: Any) -> str:
    if value is None:
        return "any"  # a None default says nothing about the type
    return type(value).__name__ if type(value).__name__ in _NAMES else "any"


def read_notebook(path: Path) -> Any:
    """The notebook node; a clear error for a missing or malformed file."""
    from readiness.integrations import papermill

    require_file(path, f"notebook {path}")
    if path.suffix != ".ipynb":
        raise UsageError(f"{path} is not a Jupyter notebook (.ipynb)")
    try:
        return papermill.read(path)
    except NotebookError as exc:  # malformed: not JSON, not a notebook
        raise UsageError(f"{path} is not a readable notebook: {exc}") from None


def parameters_of(notebook: Any) -> dict[str, Parameter] | None:
    """Parameters of the cell tagged ``parameters``; None when there is no such cell.

    The one reader of a parameters cell: each ``name = value`` (or ``name: type = value``)
    assignment, its default a Python literal (``None``, ``True``, numbers, strings, lists,
    dicts) read with ``ast.literal_eval``, or an expression kept as its source.
    """
    cell = next(
        (c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None
    )
    if cell is None:
        return None
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as exc:
        raise UsageError(f"the parameters cell does not parse: {exc}") from None
    found: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, annotation, value = node.targets[0], None, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, annotation, value = node.target, _annotation(node.annotation), node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        source = ast.unparse(value)
        try:
            default = ast.literal_eval(value)
            literal = True
        except (ValueError, SyntaxError, TypeError):
            default, literal = None, False
        type_name = annotation or (_type_of(default) if literal else "any")
        found[target.id] = Parameter(target.id, type_name, default, source, literal)
    return found


def literal_defaults(path: Path) -> dict[str, Any]:
    """The literal defaults of the notebook's parameters cell (expressions left out)."""
    declared = parameters_of(read_notebook(path)) or {}
    return {name: p.default for name, p in declared.items() if p.literal}


def check_names(names: Any) -> None:
    """Refuse a parameter name that is not a Python identifier.

    papermill writes each name into the injected cell as code (``name = value``), so a
    name such as ``x=1;import os;y`` would run; this holds with ``--allow-extra`` too.
    """
    for name in names:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise UsageError(
                f"parameter name {name!r} is not a Python identifier (letters, digits and _, "
                "not starting with a digit, not a keyword)"
            )


def check_parameters(
    notebook_path: Path, values: dict[str, Any], allow_extra: bool = False
) -> dict[str, Parameter]:
    """Refuse bad or unknown names and wrong types before a kernel starts; return the parameters."""
    check_names(values)
    declared = parameters_of(read_notebook(notebook_path))
    if declared is None:
        # papermill injects the values as the notebook's first cell: with --allow-extra
        if values and not allow_extra:
            raise UsageError(
                f"{notebook_path.name} has no cell tagged 'parameters', so it cannot take "
                f"{', '.join(values)}: tag the cell that sets them (View > Cell Toolbar > Tags), "
                "or pass --allow-extra to inject them as the first cell"
            )
        return {}
    accepted = "; ".join(p.describe() for p in declared.values()) or "none"
    for name, value in values.items():
        parameter = declared.get(name)
        if parameter is None:
            if allow_extra:
                continue
            raise UsageError(
                f"unknown parameter {name!r} for {notebook_path.name}. Accepted: {accepted} "
                "(--allow-extra passes it anyway)"
            )
        if not parameter.accepts(value):
            raise UsageError(
                f"parameter {name!r} of {notebook_path.name} must be {parameter.type_name} "
                f"(default {parameter.default_source}); got {type(value).__name__} {value!r}"
            )
    return declared


def check_kernel(notebook: Any, kernel: str | None) -> str | None:
    """The kernel to use, refused with the installed list when it does not exist.

    Resolved as jupyter_client resolves it when papermill starts the kernel: ``python``
    is its alias of the native kernel (``python3``), names match case-insensitively,
    and the native kernel is found even without an installed kernelspec. The name
    returned is the kernelspec's own.
    """
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager, NoSuchKernel

    name = kernel or notebook.metadata.get("kernelspec", {}).get("name")
    manager = KernelSpecManager()
    installed = manager.find_kernel_specs()
    if name is None:
        raise UsageError(
            "the notebook names no kernel (no kernelspec metadata): pass --kernel NAME; "
            f"installed kernels: {', '.join(sorted(installed)) or 'none'}"
        )
    resolved = NATIVE_KERNEL_NAME if name == "python" else name  # KernelManager's alias
    try:
        manager.get_kernel_spec(resolved)
    except (NoSuchKernel, OSError, ValueError):
        raise UsageError(
            f"no kernel named {name!r}; installed kernels: {', '.join(sorted(installed)) or 'none'}"
            " (jupyter kernelspec list)"
        ) from None
    return next((k for k in installed if k.lower() == resolved.lower()), resolved)


def training_data(project: Any, record: dict[str, Any] | None, data_param: str) -> str | None:
    """The project-relative path a model was trained on, from its run record; None if unknown."""
    notebook = (record or {}).get("notebook")
    if not record or not notebook:
        return None
    value = (record.get("params") or {}).get(data_param)
    if value is None and (project.root / notebook).is_file():  # the notebook's default was used
        declared = parameters_of(read_notebook(project.root / notebook)) or {}
        value = declared[data_param].default if data_param in declared else None
    if not isinstance(value, str):
        return None
    path = (project.root / Path(notebook).parent / value).resolve()
    return os.path.relpath(path, project.root)
