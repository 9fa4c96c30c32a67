"""Spreadsheet-safe CSV writing: every CSV this project writes goes through here.

A spreadsheet opening a CSV runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as
a formula (``=HYPERLINK(...)``, ``=cmd|...``), and a leading tab or carriage return can
hide one. Letter text, batch cells and file names are not ours, so every text cell (and
header, and index label) that begins with one of those characters is written with a
leading ``'``, which spreadsheets show as text. Numbers are written as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only where a frame is written: safe_row needs none
    import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Mapping) -> dict:
    """A record (e.g. for ``csv.DictWriter``) with its keys and text values made safe."""
    return {safe_cell(k): safe_cell(v) for k, v in row.items()}


def _is_text(dtype) -> bool:
    import pandas as pd

    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _safe_index(index: pd.Index) -> pd.Index:
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_safe_index(level) for level in index.levels])
    if _is_text(index.dtype):
        return index.map(safe_cell)
    return index


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names and index labels are safe."""
    safe = frame.copy()
    for column in safe.columns:
        if _is_text(safe[column].dtype):
            safe[column] = safe[column].map(safe_cell)
    safe.columns = _safe_index(safe.columns)
    safe.index = _safe_index(safe.index)
    return safe


def write_csv(frame: pd.DataFrame, path, **to_csv) -> None:
    """Write ``frame`` to ``path`` (a file name or a text buffer) as a spreadsheet-safe CSV
    (``to_csv`` options pass on)."""
    spreadsheet_safe(frame).to_csv(path, **to_csv)
