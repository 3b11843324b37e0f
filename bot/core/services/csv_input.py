"""Reading staff's CSV files: header check, line numbers, every problem reported at once.

Imports are all-or-nothing: a service first validates every row with these helpers,
collecting :class:`LineError`s, and writes only when there are none.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from bot.core.languages import LANGUAGES, texts
from storage.models import Texts

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def translated(*columns: str) -> tuple[str, ...]:
    """``name`` → ``name, name_ky, name_ru, name_en``: a column staff may give in every
    language (``name_ky,name_ru,name_en``), a plain ``name`` still working."""
    suffixes = ("", *(f"_{lang}" for lang in LANGUAGES))
    return tuple(f"{column}{suffix}" for column in columns for suffix in suffixes)


@dataclass(frozen=True, order=True)
class LineError:
    """A bad line: ``reason`` in English (the CLI prints it); ``code`` and ``args`` let the
    staff console say the same in the staff member's language (``import_<code>``)."""

    line: int
    reason: str
    code: str = field(default="", compare=False)
    args: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"

    @classmethod
    def of(cls, line: int, exc: ValueError) -> LineError:
        """The error of a row a validator refused (with its code if a :class:`BadValue`)."""
        if isinstance(exc, BadValue):
            return cls(line, str(exc), exc.code, exc.args_)
        return cls(line, str(exc))


class BadValue(ValueError):
    """A row's bad value, with a code and fields for the console's translation."""

    def __init__(self, reason: str, code: str, **args: Any) -> None:
        super().__init__(reason)
        self.code = code
        self.args_ = args


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
    """UTF-8 (with or without a BOM, as spreadsheet programs write it) or UTF-16 with its
    BOM (Excel's "Unicode text"). Anything else (e.g. Windows-1251, Excel's plain "CSV") is
    refused with the advice to save as CSV UTF-8: guessing an 8-bit code page would turn
    names into nonsense without a word (and Windows-1251 has no ң, ө, ү)."""
    try:
        if data.startswith(UTF16_BOMS):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        reason = "the file is not UTF-8 text: save it as CSV UTF-8"
        raise ImportRejected([LineError(line, reason, "not_utf8")]) from None


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
                columns = ", ".join(missing)
                raise ImportRejected(
                    [LineError(line, f"missing column(s): {columns}", "missing_columns",
                               {"columns": columns})]
                )  # fmt: skip
            unknown = [c for c in header if c not in required and c not in optional]
            if unknown:
                columns = ", ".join(unknown)
                raise ImportRejected(
                    [LineError(line, f"unknown column(s): {columns}", "unknown_columns",
                               {"columns": columns})]
                )  # fmt: skip
            continue
        if len(fields) != len(header):
            errors.append(
                LineError(
                    line, f"expected {len(header)} fields, found {len(fields)}", "field_count",
                    {"expected": len(header), "found": len(fields)},
                )
            )  # fmt: skip
            continue
        rows.append(CsvRow(line, {h: v.strip() for h, v in zip(header, fields, strict=True)}))
    if header is None:
        raise ImportRejected([LineError(1, "the file is empty: expected a header line", "empty")])
    return rows, errors
