"""CSV for spreadsheets. Every CSV export writes through :func:`csv_text`, so that no
cell runs as a formula when a spreadsheet opens the file (the OWASP "CSV injection" rule).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading ``'``: the spreadsheet shows it as text. Genuine numbers stay numbers: an ``int``
or ``float`` value, or a text that is nothing but a decimal number (``-5``, ``3.60``),
is written as it is, since a spreadsheet reads it as a number and runs nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from bot.core.languages import in_language

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet may read it: numbers as they are, text neutralised."""
    if isinstance(value, int | float) or value is None:
        return "" if value is None else value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(
    header: Sequence[str], rows: Iterable[Sequence[object]], language: str | None = None
) -> str:
    """A CSV document (``\\n`` line ends) with every cell passed through :func:`safe_cell`;
    names staff entered (:class:`storage.models.Texts`) in ``language`` (None: as stored)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows(
        [safe_cell(in_language(cell, language) if language else cell) for cell in row]
        for row in rows
    )
    return out.getvalue()
