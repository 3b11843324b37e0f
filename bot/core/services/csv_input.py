"""Reading staff's CSV files: header check, line numbers, every problem reported at once.

Imports are all-or-nothing: a service first validates every row with these helpers,
collecting :class:`LineError`s, and writes only when there are none.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.core.languages import LANGUAGES, texts
from storage.models import Texts


def translated(*columns: str) -> tuple[str, ...]:
    """``name`` → ``name, name_ky, name_ru, name_en``: a column staff may give in every
    language (``name_ky,name_ru,name_en``), a plain ``name`` still working."""
    suffixes = ("", *(f"_{lang}" for lang in LANGUAGES))
    return tuple(f"{column}{suffix}" for column in columns for suffix in suffixes)


@dataclass(frozen=True, order=True)
class LineError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportRejected(Exception):
    """The file had bad rows; nothing was imported."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = sorted(errors)
        super().__init__(f"{len(self.errors)} bad line(s); nothing was imported")


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")

    def texts(self, column: str, default_language: str) -> Texts:
        """A :func:`translated` column: empty when neither it nor any version is given."""
        versions = {lang: self[f"{column}_{lang}"] for lang in LANGUAGES}
        return texts(self[column], versions, default_language)


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM, as spreadsheet programs write it)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [LineError(data.count(b"\n", 0, exc.start) + 1, "the file is not UTF-8 text")]
        ) from None


def read_rows(
    text: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[list[CsvRow], list[LineError]]:
    """The data rows (lower-cased, trimmed headers and values) and the malformed lines.

    Raises :class:`ImportRejected` at once for a header without the required columns
    or with unknown ones; blank lines are skipped.
    """
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header: list[str] | None = None
    errors: list[LineError] = []
    rows: list[CsvRow] = []
    for fields in reader:
        line = reader.line_num
        if not any(field.strip() for field in fields):
            continue
        if header is None:
            header = [field.strip().lower() for field in fields]
            missing = [column for column in required if column not in header]
            if missing:
                raise ImportRejected([LineError(line, f"missing column(s): {', '.join(missing)}")])
            unknown = [c for c in header if c not in required and c not in optional]
            if unknown:
                raise ImportRejected([LineError(line, f"unknown column(s): {', '.join(unknown)}")])
            continue
        if len(fields) != len(header):
            errors.append(LineError(line, f"expected {len(header)} fields, found {len(fields)}"))
            continue
        rows.append(CsvRow(line, {h: v.strip() for h, v in zip(header, fields, strict=True)}))
    if header is None:
        raise ImportRejected([LineError(1, "the file is empty: expected a header line")])
    return rows, errors
