"""YAML in and out: parse errors with line and column, and comment-keeping writes.

Every YAML document readiness reads (readiness.yaml, criteria files and cells, params
and grid files, dvc.yaml, dvc.lock, params.yaml) is parsed by :func:`parse` (files by
:func:`load_file`), which bounds what a document may cost: its size, and the nodes its
aliases expand to (a "billion laughs" document of a few hundred bytes otherwise
expands to hundreds of millions of nodes).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.core.errors import ConfigError, ReadinessError

# A readiness.yaml, a grid or a params file is a few KB; dvc.lock files rarely reach 1 MB.
MAX_YAML_BYTES = 4_000_000
# Nodes produced by expanding aliases (a node reached a second time through an alias,
# and everything under it). Small anchors reused a few times stay far below this.
MAX_ALIAS_NODES = 100_000
# Python refuses to convert longer digit strings to int (sys.get_int_max_str_digits()).
_LONG_DIGITS = re.compile(r"\d{4300,}")


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


class AliasBomb(Exception):
    """Aliases expand to more than :data:`MAX_ALIAS_NODES` nodes."""


@dataclass
class _Expansion:
    """Counts the nodes that aliases produce while a tree becomes plain data."""

    seen: set[int] = field(default_factory=set)
    through_aliases: int = 0

    def visit(self, node: Any, aliased: bool) -> bool:
        """Whether ``node`` is reached through an alias; raise past the budget."""
        if isinstance(node, (dict, list, tuple)):
            aliased = aliased or id(node) in self.seen
            self.seen.add(id(node))
        if aliased:
            self.through_aliases += 1
            if self.through_aliases > MAX_ALIAS_NODES:
                raise AliasBomb
        return aliased


def _plain(node: Any, expansion: _Expansion | None = None, aliased: bool = False) -> Any:
    """Round-trip containers and scalars to plain Python values (aliases expanded, bounded)."""
    import datetime as dt

    expansion = expansion or _Expansion()
    aliased = expansion.visit(node, aliased)
    if isinstance(node, dict):
        return {
            _plain(k, expansion, aliased): _plain(v, expansion, aliased) for k, v in node.items()
        }
    if isinstance(node, (list, tuple)):
        return [_plain(v, expansion, aliased) for v in node]
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
    from ruamel.yaml.reader import ReaderError

    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(
            f"{source}: the YAML document is larger than {MAX_YAML_BYTES // 1_000_000} MB: refused"
        )
    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except ReaderError as exc:  # control characters: a binary file that decoded as UTF-8
        char = exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        raise ConfigError(
            f"{source}: not YAML text: character {shown} at position {exc.position} "
            "(a binary file?)"
        ) from None
    except (YAMLError, ValueError, TypeError, RecursionError, AttributeError) as exc:
        long_number = _LONG_DIGITS.search(text)
        if isinstance(exc, ValueError) and long_number:
            line = text.count("\n", 0, long_number.start()) + 1
            col = long_number.start() - (text.rfind("\n", 0, long_number.start()) + 1) + 1
            raise ConfigError(
                f"{source}:{line}:{col}: a number of {len(long_number.group())} digits: "
                "numbers must be finite and within the float range (about ±1.8e308)"
            ) from None
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    try:
        data = _plain(tree)
    except AliasBomb:
        raise ConfigError(
            f"{source}: YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
            "(an alias bomb?): refused"
        ) from None
    except (RecursionError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: unsupported YAML content: {exc}") from None
    return Document(data=data, tree=tree, source=source)


def load_file(
    path: Path,
    what: str = "YAML file",
    source: str | None = None,
    error: type[ReadinessError] = ConfigError,
) -> Document:
    """Read and parse a YAML file; unreadable, binary or oversized files are ``error``."""
    from readiness.core.fsutil import read_text_file

    text = read_text_file(Path(path), what, error=error, max_bytes=MAX_YAML_BYTES)
    return parse(text, source or str(path))


def merge_sections(
    existing_text: str | None, sections: dict[str, Any], source: str = "readiness.yaml"
) -> str:
    """Replace top-level ``sections`` in YAML text, keeping the others and their comments."""
    yaml = _yaml()
    # parse() names a syntax error in the existing file (line:column) instead of raising
    tree = parse(existing_text, source).tree if existing_text else None
    if not isinstance(tree, dict):
        from ruamel.yaml.comments import CommentedMap

        tree = CommentedMap()
    for key, value in sections.items():
        tree[key] = value
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def dump(data: Any, width: int | None = None) -> str:
    """Serialize plain data as block-style YAML (``width``: where long lines may wrap)."""
    out = io.StringIO()
    yaml = _yaml()
    if width is not None:
        yaml.width = width
    yaml.dump(data, out)
    return out.getvalue()
