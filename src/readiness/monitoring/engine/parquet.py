"""Parquet through pyarrow: only the columns asked for, whole or one row group at a time.

The drift engine reads a Parquet sample column-wise (pyarrow decodes the columns on its own
threads) and converts it to pandas without keeping the Arrow copy beside it
(``self_destruct``: each Arrow column is freed once converted), so a column is never held
twice. A sample larger than memory is read one row group at a time (:func:`row_groups`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUFFIXES = (".parquet", ".pq")


def is_parquet(source: Any) -> bool:
    """Whether ``source`` is a path to a Parquet file (by its suffix)."""
    return isinstance(source, (str, Path)) and Path(source).suffix.lower() in SUFFIXES


def _file(path: Path) -> Any:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path)


def columns(path: Path) -> list[str]:
    """The column names of a Parquet file (its schema only: no data read)."""
    schema = _file(path).schema_arrow
    return [str(name) for name in schema.names if not _is_index(name)]


def _is_index(name: str) -> bool:
    # pandas stores a non-default index as a column named like this
    return name.startswith("__index_level_")


def memory_size(path: Path) -> int:
    """The uncompressed size of the file's data in bytes (its row groups' metadata)."""
    meta = _file(path).metadata
    return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))


def row_count(path: Path) -> int:
    """The rows of a Parquet file (from its metadata)."""
    return int(_file(path).metadata.num_rows)


def group_count(path: Path) -> int:
    """The row groups of a Parquet file."""
    return int(_file(path).metadata.num_row_groups)


def _pandas(table: Any) -> Any:
    # one pandas block per column, each Arrow buffer released once converted
    return table.to_pandas(split_blocks=True, self_destruct=True)


def read_columns(path: Path, names: list[str] | None = None) -> Any:
    """``names`` (default: all) of a Parquet file as a DataFrame, read column-wise."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=names, use_threads=True)
    return _pandas(table)


def read_group(path: Path, index: int, names: list[str]) -> Any:
    """Row group ``index`` of a Parquet file, ``names`` only, as a DataFrame."""
    return _pandas(_file(path).read_row_group(index, columns=names, use_threads=True))


def row_groups(path: Path, names: list[str]) -> Iterator[Any]:
    """The file's row groups in order, ``names`` only, each a DataFrame (one held at a time)."""
    parquet = _file(path)
    for index in range(parquet.metadata.num_row_groups):
        yield _pandas(parquet.read_row_group(index, columns=names, use_threads=True))
