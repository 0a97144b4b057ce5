"""Parquet through pyarrow: only the columns asked for, whole or one row group at a time.

The drift engine reads a Parquet sample column-wise (pyarrow decodes the columns on its own
threads) and converts it to pandas without keeping the Arrow copy beside it
(``self_destruct``: each Arrow column is freed once converted), so a column is never held
twice. Two files are judged column by column (:func:`read_column`: one column of each per
core, never a whole frame); a sample larger than memory is read one row group at a time
(:func:`row_groups`).
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


def read_columns(path: Path, names: list[str] | None = None, workers: int | None = None) -> Any:
    """``names`` (default: all) of a Parquet file as a DataFrame, read column by column.

    One column at a time per thread (``workers``, default: the cores): each is decoded,
    converted and its Arrow copy freed before the next, so the peak is the frame and a
    column per thread, not the frame twice (as a whole-table read and conversion holds it).
    """
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd
    import pyarrow as pa

    from readiness.monitoring.engine.judge import cores

    wanted = columns(path) if names is None else list(names)
    if not wanted:
        return _pandas(_file(path).read(columns=[]))

    threads = max(1, min(workers or cores(), len(wanted)))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(pool.map(lambda name: _column_frame(path, name), wanted))
    pa.default_memory_pool().release_unused()  # decoding buffers back to the system
    frame = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
    return frame


def read_column(path: Path, name: str) -> Any:
    """Column ``name`` of a Parquet file as a pandas Series, as :func:`read_columns` reads it.

    Decoded on the calling thread (the caller reads columns side by side), its Arrow copy
    freed once converted: judging file to file, one column of each sample per core.
    """
    return _column_frame(path, name)[name]


def _column_frame(path: Path, name: str) -> Any:
    return _pandas(_file(path).read(columns=[name], use_threads=False))


def read_group(path: Path, index: int, names: list[str]) -> Any:
    """Row group ``index`` of a Parquet file, ``names`` only, as a DataFrame."""
    return _pandas(_file(path).read_row_group(index, columns=names, use_threads=True))


def row_groups(path: Path, names: list[str]) -> Iterator[Any]:
    """The file's row groups in order, ``names`` only, each a DataFrame (one held at a time)."""
    parquet = _file(path)
    for index in range(parquet.metadata.num_row_groups):
        yield _pandas(parquet.read_row_group(index, columns=names, use_threads=True))


def value_ranges(path: Path, names: list[str]) -> dict[str, tuple[float, float, int]]:
    """The min, max and count of non-null values of each numeric column of ``names``, from
    the row groups' statistics (no data read); a column some group has no statistics for
    is left out. pyarrow's statistics skip NaN in the min and max but count it as a value,
    and keep ``±inf``: the caller checks them against the values read.
    """
    meta = _file(path).metadata
    where = {meta.schema.column(j).path: j for j in range(meta.num_columns)}
    found: dict[str, tuple[float, float, int]] = {}
    for name in names:
        if name not in where:
            continue
        low, high, count = float("inf"), float("-inf"), 0
        for index in range(meta.num_row_groups):
            group = meta.row_group(index)
            column = group.column(where[name])
            stats = column.statistics
            if column.physical_type not in ("INT32", "INT64", "FLOAT", "DOUBLE") or stats is None \
                    or not stats.has_min_max or not stats.has_null_count \
                    or not isinstance(stats.min, (int, float)):
                break  # dates and times are stored as integers too: their statistics are not
            low, high = min(low, float(stats.min)), max(high, float(stats.max))
            count += group.num_rows - stats.null_count
        else:
            if low <= high:
                found[name] = (low, high, count)
    return found
