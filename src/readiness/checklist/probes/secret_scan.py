"""Finding credentials in a project: notebooks as text, bounded per output, cached by hash.

detect-secrets runs over text. A notebook is turned into lines first: each cell's
source, and each output's text (stdout/stderr, text and JSON data, tracebacks) in three
forms, because detect-secrets' detectors differ in what they look at: the decoded
text, each line as a JSON string (as the raw ``.ipynb`` holds it) and each line with its
words quoted (the AWS secret-key and high-entropy detectors only look at quoted strings).
Binary data (images, PDFs, widget state, data URIs, Plotly's ``bdata``, long base64 runs)
is dropped before anything is decoded, and each output and line is capped, so the work
per notebook is bounded whatever its size. Results are cached by the file's sha256 in
``.readiness/cache/secrets.json`` (machine-local, git-ignored).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCANNER_VERSION = 2  # bump whenever what is scanned changes: the cache is then ignored
MAX_OUTPUT_CHARS = 100_000  # scanned per output (its first characters) and per cell source
MAX_LINE_CHARS = 2_000  # longer lines are scanned in overlapping pieces of this size
LINE_OVERLAP = 200  # a secret up to this long is never cut by a piece boundary
MAX_SCRIPT_CHARS = 20_000  # a longer <script> in an HTML output is an embedded library
MAX_FILE_CHARS = 4_000_000  # scanned per non-notebook file (its first characters)
CACHE_NAME = "cache/secrets.json"  # under .readiness/
REDACTED = "***redacted***"

# content hashes (md5, sha256) look like hex secrets to the entropy detector: not credentials
IGNORED_TYPES = {"Hex High Entropy String"}
INDIRECT_FILTER = "detect_secrets.filters.heuristic.is_indirect_reference"
OWN_FILTER = "readiness.checklist.probes.secret_scan.is_known_false_positive"

BINARY_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
BINARY_MIMES = {
    "application/pdf",
    "application/octet-stream",
    "application/zip",
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
}
TEXT_MARKERS = ("json", "xml", "javascript", "latex", "markdown", "text")

_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=]*")
_BDATA = re.compile(r'("bdata"\s*:\s*")[^"]*(")')
_BLOB = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{1024,}")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_WORD = re.compile(r"[^\s=:,;()\[\]{}'\"]+")

_PLACEHOLDER_WORDS = (
    r"x{3,}|\*{3,}|\.{3,}|changeme|change[_-]?me|replace[_-]?me|placeholder|example"
    r"|dummy|fake|secret|password|token|api[_-]?key|todo|tbd|none|null|redacted"
)
_PLACEHOLDER = re.compile(
    rf"^(?:<[^>]*>|\{{[^}}]*\}}|\$\{{?[\w.]+\}}?|%\(?\w+\)?s?|{_PLACEHOLDER_WORDS})$"
    r"|your[_-]?\w*(?:key|secret|token|password|pass|pwd)|[_-]here$|^\*+redacted\*+$",
    re.IGNORECASE,
)

_CREDENTIAL_NAME = re.compile(
    r"token|passw(?:or)?d|pwd|secret|api_?key|apikey|(?:^|[_-])keys?$|credential|passphrase",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """One possible credential and where it is.

    ``cell`` and ``output`` are 0-based indexes into the notebook's cells and that cell's
    outputs (``output`` is None for the cell's source); ``line`` is 1-based, in the file
    or in that source or output text.
    """

    path: str
    types: tuple[str, ...]
    line: int = 0
    cell: int | None = None
    output: int | None = None
    part: str = "file"  # file | source | output | metadata

    @property
    def location(self) -> str:
        if self.part == "file":
            return f"{self.path}:{self.line}"
        if self.part == "metadata":
            return f"{self.path} notebook metadata line {self.line}"
        if self.part == "source":
            return f"{self.path} cell {self.cell} source line {self.line}"
        return f"{self.path} cell {self.cell} output {self.output} line {self.line}"

    def __str__(self) -> str:
        return f"{self.location}: {', '.join(self.types)}"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Finding:
        return cls(**{**raw, "types": tuple(raw["types"])})


# -- detect-secrets: settings and filters ---------------------------------------------


def is_known_false_positive(secret: str, line: str) -> bool:
    """A detect-secrets filter: placeholders, Plotly's base64 arrays, readiness's redaction."""
    value = secret.strip().strip("'\"")
    if _PLACEHOLDER.search(value):
        return True
    return f'"bdata":"{value}' in line.replace(" ", "") or "base64," + value in line


def _custom_plugins() -> list[dict[str, str]]:
    from detect_secrets.plugins.base import RegexBasedDetector

    from readiness.checklist.probes import secret_detectors

    path = "file://" + str(Path(secret_detectors.__file__).resolve())
    return [
        {"name": name, "path": path}
        for name, value in vars(secret_detectors).items()
        if isinstance(value, type)
        and issubclass(value, RegexBasedDetector)
        and value is not RegexBasedDetector
    ]


@contextlib.contextmanager
def detector_settings() -> Iterator[None]:
    """Every detect-secrets detector plus ours; its filters minus the indirect-reference one.

    ``is_indirect_reference`` drops any line shaped ``x = f(...)``, which hides the usual
    notebook idiom ``OpenAI(api_key="...")``: our placeholder filter replaces it.
    """
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import Settings, transient_settings

    get_mapping_from_secret_type_to_class.cache_clear()  # it may hold another run's plugins
    custom = _custom_plugins()  # named with their file: detect-secrets loads them from it
    ours = {p["name"] for p in custom}
    known: list[type] = list(get_mapping_from_secret_type_to_class().values())
    plugins = [{"name": c.__name__} for c in known if c.__name__ not in ours] + custom
    defaults = Settings()
    filters = [
        {"path": path}
        for path in defaults.filters
        if path != INDIRECT_FILTER and path not in Settings.DEFAULT_FILTERS
    ] + [{"path": OWN_FILTER}]
    try:
        with transient_settings({"plugins_used": plugins, "filters_used": filters}):
            get_mapping_from_secret_type_to_class.cache_clear()
            yield
    finally:
        get_mapping_from_secret_type_to_class.cache_clear()


# -- turning files into lines ---------------------------------------------------------


@dataclass
class _Lines:
    """Lines to scan: each piece of a line, the forms to scan it in, and where it came from."""

    pieces: list[tuple[str, tuple[str, ...], tuple[str, int | None, int | None, int]]] = field(
        default_factory=list
    )

    def add(
        self,
        text: str,
        part: str,
        cell: int | None = None,
        output: int | None = None,
        forms: tuple[str, ...] = ("plain",),
    ) -> None:
        for number, line in enumerate(text.splitlines(), start=1):
            for piece in _pieces(line):
                self.pieces.append((piece, forms, (part, cell, output, number)))


def _pieces(line: str) -> Iterator[str]:
    """A line in overlapping pieces of at most MAX_LINE_CHARS (detectors are per line)."""
    if len(line) <= MAX_LINE_CHARS:
        yield line
        return
    step = MAX_LINE_CHARS - LINE_OVERLAP
    for start in range(0, len(line) - LINE_OVERLAP, step):
        yield line[start : start + MAX_LINE_CHARS]


_FORMS = {
    "plain": lambda line: line,
    "quoted": lambda line: json.dumps(line),  # as the raw .ipynb holds it
    "words": lambda line: _WORD.sub(lambda m: f'"{m.group()}"', line),
}


def _is_text_mime(mime: str) -> bool:
    if mime.startswith(BINARY_PREFIXES) or mime in BINARY_MIMES:
        return False
    return any(marker in mime for marker in TEXT_MARKERS)


def _joined(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return value if isinstance(value, str) else json.dumps(value)


def drop_library_scripts(html: str) -> str:
    """HTML without the long ``<script>`` blocks that embed a library (plotly.js, bokeh).

    Minified library code is megabytes of ``a==="password"``-shaped comparisons that the
    keyword detector reports; a figure's or a map's own short script is kept.
    """
    out, start = [], 0
    while (opening := html.find("<script", start)) != -1:
        closing = html.find("</script>", opening)
        end = len(html) if closing == -1 else closing + len("</script>")
        out.append(html[start:opening])
        body = html[opening:end]
        out.append(body if len(body) <= MAX_SCRIPT_CHARS else "<script>library</script>")
        start = end
    out.append(html[start:])
    return "".join(out)


def clean_text(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Text without binary payloads (data URIs, Plotly bdata, base64 runs), capped."""
    text = _DATA_URI.sub("data:;base64,", text)
    text = _BDATA.sub(r"\1\2", text)
    text = _BLOB.sub("<blob>", text)
    return _ANSI.sub("", text)[:limit]


def output_text(output: dict[str, Any]) -> str:
    """The text of one output: streams, text and JSON data, errors; binary data skipped."""
    parts = []
    if output.get("text"):
        parts.append(_joined(output["text"]))
    for mime, value in (output.get("data") or {}).items():
        if _is_text_mime(mime):
            text = _joined(value)
            if "javascript" in mime and len(text) > MAX_SCRIPT_CHARS:
                continue  # an embedded library, as below
            parts.append(drop_library_scripts(text) if "html" in mime else text)
    if output.get("ename") or output.get("evalue"):
        parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
    if isinstance(output.get("traceback"), list):
        parts.append("\n".join(map(str, output["traceback"])))
    # cap before cleaning too, so a huge output costs a bounded amount of regex work
    return clean_text("\n".join(parts)[: MAX_OUTPUT_CHARS * 20])


def notebook_lines(notebook: dict[str, Any]) -> _Lines:
    lines = _Lines()
    for c, cell in enumerate(notebook.get("cells") or []):
        if not isinstance(cell, dict):
            continue
        source = clean_text(_joined(cell.get("source", "")))
        lines.add(source, "source", c, forms=("plain", "quoted"))
        for o, output in enumerate(cell.get("outputs") or []):
            if isinstance(output, dict):
                lines.add(output_text(output), "output", c, o, ("plain", "quoted", "words"))
    metadata = {
        k: v for k, v in (notebook.get("metadata") or {}).items() if k != "widgets"
    }  # papermill records the parameters here; widget state is binary-ish model data
    lines.add(clean_text(json.dumps(metadata, indent=1)), "metadata")
    return lines


def text_file_lines(text: str) -> _Lines:
    lines = _Lines()
    lines.add(text[:MAX_FILE_CHARS], "file")
    return lines


# -- scanning -------------------------------------------------------------------------


def _detect(target: Path) -> Iterator[tuple[int, str, str, str]]:
    """(line number, type, hash, value) of what detect-secrets finds in one file."""
    from detect_secrets.core.scan import scan_file

    for secret in scan_file(str(target)):
        if secret.type not in IGNORED_TYPES:
            yield secret.line_number, secret.type, secret.secret_hash, secret.secret_value or ""


def _prefilter() -> Callable[[str, tuple[str, ...]], bool]:
    """A cheap test that no configured detector can fire on a line, in any of its forms.

    detect-secrets costs about 0.2 ms per line (30 detectors, each called through its
    dependency injection). A regex detector fires only where one of its own patterns
    matches, the keyword detector only where one of its keywords appears, and an entropy
    detector only on a run of its characters longer than 2**limit (entropy is at most
    log2 of the length): those tests, run directly, cost a few microseconds. Patterns
    that look at quotes are also tried on the quoted forms.
    """
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector
    from detect_secrets.settings import get_plugins

    patterns: list[re.Pattern[str]] = []
    quoted: list[re.Pattern[str]] = []  # patterns whose match may depend on added quotes
    words: set[str] = {"allowlist"}  # literals (lower case); "allowlist": pragma comments
    for plugin in get_plugins():
        if isinstance(plugin, RegexBasedDetector):
            patterns.extend(plugin.denylist)
            quoted.extend(p for p in plugin.denylist if "'" in p.pattern or '"' in p.pattern)
        elif isinstance(plugin, HighEntropyStringsPlugin):
            if plugin.secret_type not in IGNORED_TYPES:
                shortest = math.floor(2**plugin.entropy_limit) + 1
                run = re.compile(f"[{re.escape(plugin.charset)}]{{{shortest},}}")
                patterns.append(run)
                quoted.append(run)  # escapes (backslashes) can lengthen a run
        elif isinstance(plugin, KeywordDetector):
            for entry in DENYLIST:  # 'api_?key': every match contains "key"
                last = entry.split("_?")[-1]
                if re.fullmatch(r"[^\W\d_]+", last):
                    words.add(last.lower())
                else:
                    patterns.append(re.compile(entry, re.IGNORECASE))
        else:  # a detector we cannot reason about sees every line
            return lambda line, forms: True

    def could(line: str, forms: tuple[str, ...]) -> bool:
        lowered = line.lower()
        if any(word in lowered for word in words) or any(p.search(line) for p in patterns):
            return True
        variants = [_FORMS[form](line) for form in forms if form != "plain"]
        return any(p.search(v) for p in quoted for v in variants)

    return could


def _scan_lines(lines: _Lines, folder: Path, suffix: str) -> list[tuple[Any, ...]]:
    """Scan the lines some detector could fire on (in order: pragmas refer to the line above)."""
    could = _prefilter()
    kept: list[str] = []
    where: list[Any] = []
    skipped = False
    for piece, forms, place in lines.pieces:
        if not could(piece, forms):
            skipped = True
            continue
        if skipped and kept:  # a gap stays a gap: "allowlist nextline" means the next line
            kept.append("")
            where.append(None)
        for form in forms:
            kept.append(_FORMS[form](piece))
            where.append(place)
        skipped = False
    if not kept:
        return []
    target = Path(folder) / f"scanned{suffix}"
    target.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return [(*where[n - 1], *rest) for n, *rest in _detect(target) if where[n - 1]]


def _needs_copy(text: str) -> bool:
    return len(text) > MAX_FILE_CHARS or any(
        len(line) > MAX_LINE_CHARS for line in text.splitlines()
    )


def scan_path(path: Path, relative: str, data: bytes, folder: Path) -> list[Finding]:
    """Every finding in one file (``data`` is its content), merged per place."""
    text = data.decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            notebook = json.loads(text)
        except json.JSONDecodeError:
            notebook = None
        if isinstance(notebook, dict):
            return _merge(relative, _scan_lines(notebook_lines(notebook), folder, ".txt"))
    if _needs_copy(text):  # scanned as pieces, line numbers mapped back
        return _merge(relative, _scan_lines(text_file_lines(text), folder, path.suffix))
    # small files are scanned in place: detect-secrets' YAML and INI readers then apply
    return _merge(relative, [("file", None, None, *hit) for hit in _detect(path)])


def _merge(relative: str, hits: Iterable[tuple[Any, ...]]) -> list[Finding]:
    """One finding per secret and place: every form and detector that saw it, together."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for part, cell, output, line, kind, digest, value in hits:
        place = groups.setdefault((part, cell, output), [])
        same = next((g for g in place if _same_secret(g, line, digest, value)), None)
        if same is None:
            place.append({"line": line, "types": [kind], "hashes": {digest}, "value": value})
            continue
        same["hashes"].add(digest)
        if kind not in same["types"]:
            same["types"].append(kind)
        if len(value) > len(same["value"]):
            same["value"] = value
    findings = [
        Finding(relative, _ordered(g["types"]), g["line"], cell, output, part)
        for (part, cell, output), place in groups.items()
        for g in place
    ]
    return sorted(findings, key=_order)


def _same_secret(group: dict[str, Any], line: int, digest: str, value: str) -> bool:
    """The same value, or one detector's match inside another's on the same line."""
    if digest in group["hashes"]:
        return True
    short, long = sorted((value, group["value"]), key=len)
    return short in long and (line == group["line"] or len(short) >= 16)


def _ordered(types: list[str]) -> tuple[str, ...]:
    """Named formats first, the generic entropy and keyword findings after."""
    generic = ("High Entropy", "Secret Keyword")
    return tuple(sorted(types, key=lambda t: (any(g in t for g in generic), t)))


def _order(f: Finding) -> tuple[Any, ...]:
    return (f.path, -1 if f.cell is None else f.cell, -1 if f.output is None else f.output, f.line)


# -- the project ----------------------------------------------------------------------


def _cache_path(root: Path) -> Path:
    from readiness.core.project import Project

    return Project(root).state_dir / CACHE_NAME


def _cache_key() -> str:
    from importlib.metadata import version

    return f"{SCANNER_VERSION}/detect-secrets-{version('detect-secrets')}"


def load_cache(root: Path) -> dict[str, Any]:
    """``{relative path: {"sha256", "findings"}}``; empty when absent, stale or unreadable."""
    try:
        data = json.loads(_cache_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _cache_key():
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _save_cache(root: Path, files: dict[str, Any]) -> None:
    from readiness.core.fsutil import atomic_write_json

    with contextlib.suppress(OSError):  # a read-only project is still checked, only slower
        atomic_write_json(_cache_path(root), {"version": _cache_key(), "files": files})


def find_secrets(root: Path, paths: Iterable[Path]) -> list[Finding]:
    """Findings in ``paths`` (files under ``root``); unchanged files come from the cache."""
    cached = load_cache(root)
    fresh: dict[str, Any] = {}
    findings: list[Finding] = []
    with contextlib.ExitStack() as stack:
        folder: Path | None = None
        for path in paths:
            relative = path.relative_to(root).as_posix()
            try:
                data = path.read_bytes()
            except OSError:
                continue
            digest = hashlib.sha256(data).hexdigest()
            entry = cached.get(relative)
            if isinstance(entry, dict) and entry.get("sha256") == digest:
                found = [Finding.from_dict(f) for f in entry.get("findings") or []]
            else:
                if folder is None:  # detect-secrets is set up only when something changed
                    folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                    stack.enter_context(detector_settings())
                found = scan_path(path, relative, data, folder)
            fresh[relative] = {"sha256": digest, "findings": [asdict(f) for f in found]}
            findings.extend(found)
    if fresh != cached:
        _save_cache(root, fresh)
    return findings


# -- redaction of run parameters ------------------------------------------------------


def credential_name(name: str) -> bool:
    """A parameter name that says credential: token, password, secret, api_key, key..."""
    return bool(_CREDENTIAL_NAME.search(name))


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _flagged(texts: list[str], folder: Path) -> bool:
    lines = _Lines()
    for text in texts:
        lines.add(clean_text(text), "file", forms=("plain", "quoted", "words"))
    return bool(_scan_lines(lines, folder, ".txt"))


def redact_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a run record keeps them: credentials replaced by ``***redacted***``.

    A value is redacted when its parameter's name says credential, or when a secret
    detector flags it (text values, also inside lists and mappings).
    """
    redacted = {n for n, v in params.items() if v is not None and credential_name(n)}
    texts = {
        n: [t for t in _strings(v) if len(t) >= 8 and t != REDACTED]
        for n, v in params.items()
        if n not in redacted
    }
    texts = {n: t for n, t in texts.items() if t}
    if texts:
        with tempfile.TemporaryDirectory() as folder, detector_settings():
            redacted |= {n for n, t in texts.items() if _flagged(t, Path(folder))}
    return {n: REDACTED if n in redacted else v for n, v in params.items()}
