"""``readiness lineage``: data -> notebook stage -> model -> metrics, from DVC's own index.

Read through DVC (so ``${...}`` templating and ``.dvc`` files resolve exactly as
``dvc repro`` sees them); drawn as text for terminals and as an inline, script-free
SVG for notebooks.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.project import Project
from readiness.core.results import Renderable
from readiness.integrations import dvc as dvcstore

MODEL_SUFFIXES = (".skops", ".pkl", ".joblib", ".onnx", ".pt", ".h5", ".keras", ".json.gz")


@dataclass
class Node:
    id: str
    kind: str  # data | notebook | code | stage | model | output | metrics
    label: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Lineage(Renderable):
    """The project's pipeline as a graph of nodes and (from, to) edges."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": [n.to_dict() for n in self.nodes], "edges": [list(e) for e in self.edges]}

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)


def _metrics_summary(path: str, limit: int = 4) -> str:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, corrupt or not UTF-8
        return "not computed yet"
    flat: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and "latency" not in prefix
        ):
            flat.append(f"{prefix.split('.')[-1]}={value:.4g}")

    walk("", data)
    return ", ".join(flat[:limit]) + (" ..." if len(flat) > limit else "")


def _short(hash_info: Any) -> str:
    value = getattr(hash_info, "value", None) or ""
    return f"md5 {str(value)[:8]}" if value else "not computed yet"


def lineage(project: Project) -> Lineage:
    """The data, stages, models and metrics of ``project``'s DVC pipeline."""
    root = str(project.root)

    def collect(repo: Any) -> Lineage:
        graph = Lineage()
        seen: set[str] = set()

        def add(node: Node) -> None:
            if node.id not in seen:
                seen.add(node.id)
                graph.nodes.append(node)

        for stage in repo.index.stages:
            if stage.is_data_source:
                for out in stage.outs:
                    path = os.path.relpath(out.fs_path, root)
                    add(Node(path, "data", path, f"{_short(out.hash_info)}, tracked"))
                continue
            name = stage.addressing
            params = []
            for dep in stage.deps:
                if hasattr(dep, "params") and getattr(dep, "params", None) is not None:
                    values = dep.hash_info.value if isinstance(dep.hash_info.value, dict) else {}
                    params += [f"{k.split('.')[-1]}={v}" for k, v in values.items()]
            add(Node(f"stage:{name}", "stage", name, ", ".join(params)))
            for dep in stage.deps:
                if hasattr(dep, "params") and getattr(dep, "params", None) is not None:
                    continue
                path = os.path.relpath(dep.fs_path, root)
                kind = (
                    "notebook"
                    if path.endswith(".ipynb")
                    else "code"
                    if path.endswith(".py")
                    else "data"
                )
                add(Node(path, kind, path, _short(dep.hash_info)))
                graph.edges.append((path, f"stage:{name}"))
            for out in stage.outs:
                path = os.path.relpath(out.fs_path, root)
                if out.metric:
                    node = Node(path, "metrics", path, _metrics_summary(out.fs_path))
                elif path.endswith(MODEL_SUFFIXES):
                    node = Node(path, "model", path, _short(out.hash_info))
                else:
                    node = Node(path, "output", path, _short(out.hash_info))
                add(node)
                graph.edges.append((f"stage:{name}", path))
        return graph

    if not dvcstore.is_dvc_project(project.root):
        return Lineage()
    return dvcstore.read(project, collect)
