"""YAML in and out: parse errors with line and column, and comment-keeping writes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from readiness.errors import ConfigError


@dataclass
class Document:
    """Parsed YAML: the plain data, and the round-trip tree that knows positions."""

    data: Any
    tree: Any
    source: str

    def position(self, loc: Sequence[str | int]) -> tuple[int, int] | None:
        """1-based (line, column) of the deepest node of ``loc`` that exists."""
        node, found = self.tree, None
        for key in loc:
            lc = getattr(node, "lc", None)
            if lc is None:
                break
            try:
                if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
                    line, col = lc.item(key)
                elif isinstance(node, dict) and key in node:
                    line, col = lc.key(key)
                else:
                    break
            except (KeyError, IndexError, TypeError, AttributeError):
                break
            if line is None or col is None:
                break
            found = (line + 1, col + 1)
            node = node[key]
        root = getattr(self.tree, "lc", None)
        if found is None and root is not None and root.line is not None and root.col is not None:
            found = (root.line + 1, root.col + 1)
        return found


def _yaml(typ: str = "rt"):
    from ruamel.yaml import YAML

    yaml = YAML(typ=typ)
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _plain(node: Any) -> Any:
    """Round-trip containers and scalars to plain Python values."""
    import datetime as dt

    if isinstance(node, dict):
        return {_plain(k): _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, dt.datetime):
        return dt.datetime(*node.timetuple()[:6])
    if isinstance(node, dt.date):
        return dt.date(node.year, node.month, node.day)
    # Tagged or unusual nodes: keep their text so the schema can reject them clearly.
    return str(getattr(node, "value", node))


def parse(text: str, source: str = "<yaml>") -> Document:
    """Parse YAML text; any syntax problem becomes a :class:`ConfigError` with a position."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except (YAMLError, ValueError, TypeError, RecursionError, AttributeError) as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    try:
        data = _plain(tree)
    except (RecursionError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: unsupported YAML content: {exc}") from None
    return Document(data=data, tree=tree, source=source)


def merge_sections(existing_text: str | None, sections: dict[str, Any]) -> str:
    """Replace top-level ``sections`` in YAML text, keeping the others and their comments."""
    yaml = _yaml()
    # parse() names a syntax error in the existing file (line:column) instead of raising
    tree = parse(existing_text, "readiness.yaml").tree if existing_text else None
    if not isinstance(tree, dict):
        from ruamel.yaml.comments import CommentedMap

        tree = CommentedMap()
    for key, value in sections.items():
        tree[key] = value
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def dump(data: Any) -> str:
    """Serialize plain data as block-style YAML."""
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()
