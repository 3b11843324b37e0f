"""Read and write pabulib ``.pb`` files (https://pabulib.org/format).

A file has three sections, each a line ``META``, ``PROJECTS`` or ``VOTES`` followed by a
``;``-separated header row and data rows; fields may be double-quoted (``""`` escapes a
quote). ``META`` rows are ``key;value`` and must give ``budget`` and ``vote_type``;
``PROJECTS`` needs ``project_id`` and ``cost``; ``VOTES`` needs ``voter_id`` and ``vote``
(comma-separated project ids) and, for cumulative and scoring ballots, ``points``. Every
problem is reported as a :class:`PabulibError` carrying the 1-based line number.

Quirks of real files are read as pabulib's own tools read them, and each one noticed is
listed in :attr:`Election.warnings` with its lines: a project named twice in a vote, a stray
quote inside a field, a ``num_votes`` or ``num_projects`` that disagrees with its section,
a cumulative vote whose points field is empty. Budgets may have a fractional part
(``1607513.56``) and are kept exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from itertools import repeat
from pathlib import Path

from bot.core.counting.election import VOTE_TYPES, Ballot, Election, Money, Project, money_text
from bot.core.counting.voter_ids import VoterIds

SECTIONS = ("META", "PROJECTS", "VOTES")
# Vote types whose VOTES rows carry a ``points`` column.
POINTS_TYPES = ("cumulative", "scoring")
# META keys that live in Election fields (or follow from its contents) instead of ``meta``.
DERIVED_META = ("num_projects", "num_votes", "budget", "vote_type")
# Keys pabulib files list before the derived ones; the writer keeps that order.
_LEADING_META = ("description", "country", "unit", "district", "subunit", "instance")
_REQUIRED = {
    "META": ("key", "value"),
    "PROJECTS": ("project_id", "cost"),
    "VOTES": ("voter_id", "vote"),
}


class PabulibError(ValueError):
    """A malformed ``.pb`` file: ``line`` is 1-based, ``reason`` says what is wrong."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def _whole(text: str, what: str, line: int) -> int:
    """A non-negative whole number; pabulib sometimes writes costs as ``1000.0``."""
    raw = text.strip()
    head, dot, tail = raw.partition(".")
    if head.isascii() and head.isdecimal() and (not dot or tail.strip("0") == ""):
        return int(head)
    raise PabulibError(line, f"{what} must be a non-negative whole number, got {raw!r}")


def _money(text: str, what: str, line: int) -> Money:
    """A non-negative amount, exact: ``1607513.56`` is ``Fraction(160751356, 100)``, a whole
    amount (``400000.0`` too) an int. A decimal comma is read as a point, as pabutools does."""
    raw = text.strip().replace(",", ".")
    head, dot, tail = raw.partition(".")
    digits = head + tail
    if not (digits.isascii() and digits.isdecimal() and head):
        raise PabulibError(line, f"{what} must be a non-negative amount, got {text.strip()!r}")
    amount = Fraction(int(digits), 10 ** len(tail)) if dot else Fraction(int(head))
    return int(amount) if amount.denominator == 1 else amount


class _Warnings:
    """What a reader corrected or noticed, one line per kind with the first few lines (in
    the order of the first line of each)."""

    _SHOWN = 5

    def __init__(self) -> None:
        self._lines: dict[str, list[int]] = {}

    def add(self, what: str, line: int) -> None:
        self._lines.setdefault(what, []).append(line)

    def text(self) -> tuple[str, ...]:
        out = []
        for what, lines in sorted(self._lines.items(), key=lambda item: item[1][0]):
            shown = ", ".join(map(str, lines[: self._SHOWN]))
            more = f" and {len(lines) - self._SHOWN} more" if len(lines) > self._SHOWN else ""
            where = "line" if len(lines) == 1 else "lines"
            out.append(f"{where} {shown}{more}: {what}")
        return tuple(out)


_STRAY_QUOTE = (
    "a quote inside a field, read as a lenient CSV reader (and pabutools) reads it: "
    "the quotes dropped, the field kept whole"
)


def _rows(lines: Iterable[str], warnings: _Warnings) -> Iterator[tuple[int, str | None, list[str]]]:
    """(line number, section name or None, fields) for each non-blank line."""
    # Lines are split on \n only (the caller's iterable): str.splitlines() also breaks on
    # form feeds and the like, which would throw the line numbers off.
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n").removesuffix("\r")
        if number == 1:
            line = line.lstrip("\ufeff")
        if not line.strip():
            continue
        if line.strip().upper() in SECTIONS:
            yield number, line.strip().upper(), []
            continue
        if '"' not in line:
            yield number, None, line.split(";")
            continue
        try:
            fields = next(csv.reader([line], delimiter=";", quotechar='"', strict=True))
        except csv.Error as exc:
            fields = next(csv.reader([line], delimiter=";", quotechar='"'))
            if line.count('"') % 2:  # a quote left open: no way to tell where the field ends
                raise PabulibError(number, f"bad quoting ({exc})") from None
            warnings.add(_STRAY_QUOTE, number)
        yield number, None, fields


class _Reader:
    """The state of one parse (see :func:`parse_pb`)."""

    def __init__(self, source: Callable[[], Iterable[str]], merge: bool) -> None:
        self.source = source
        self.merge = merge
        self.meta: dict[str, tuple[int, str]] = {}
        self.projects: dict[str, Project] = {}
        self.ballots: list[Ballot] = []
        self.voters = VoterIds(self.voters_before)
        self.votes_header = 0  # the line of the VOTES header row
        # merge: (projects, points) -> index in ballots; else a cache that lets equal
        # tuples share one object (a city's thousands of ballots hold a few hundred)
        self.distinct: dict[object, int] = {}
        self.weights: list[int] = []  # merge: the number of voters of each ballot
        self.shared: dict[tuple[object, ...], tuple[object, ...]] = {}
        self.warnings = _Warnings()
        self.vote_type = ""
        self.at: dict[str, int] | None = None  # VOTES column -> position
        self.max_length: int | None = None

    def share(self, value: tuple[object, ...]) -> tuple[object, ...]:
        return self.shared.setdefault(value, value)

    def voters_before(self, line: int) -> Iterator[str]:
        """The voter ids of the VOTES rows before ``line``, read again from the source
        (they have been read once already: none is malformed)."""
        assert self.at is not None
        at = self.at["voter_id"]
        for number, _, fields in _rows(self.source(), _Warnings()):
            if number >= line:
                return
            if number > self.votes_header:
                yield fields[at].strip()


def parse_pb(text: str, *, merge: bool = False) -> Election:
    """Parse the text of a ``.pb`` file (``PabulibError`` says where it is malformed).

    ``merge=True`` keeps one :class:`Ballot` per distinct vote, with the number of voters
    who cast it as its weight, and drops the per-voter columns: memory then grows with the
    distinct ballots, not the voters (a voter listed twice is found without keeping every
    voter id: see :mod:`.voter_ids`).
    """
    lines = text.split("\n")
    return _parse(lambda: lines, merge)


def _parse(source: Callable[[], Iterable[str]], merge: bool) -> Election:
    """Parse the lines ``source()`` gives; it is called again only to read earlier voter
    ids again (see :mod:`.voter_ids`)."""
    r = _Reader(source, merge)
    meta, projects = r.meta, r.projects
    seen: list[str] = []
    header: list[str] | None = None
    last = 0
    for number, section, fields in _rows(source(), r.warnings):
        last = number
        if section is not None:
            if seen and header is None:
                raise PabulibError(number, f"the {seen[-1]} section has no header row")
            if len(seen) == len(SECTIONS):
                raise PabulibError(number, f"unexpected {section} section after VOTES")
            if section != SECTIONS[len(seen)]:
                expected = SECTIONS[len(seen)]
                raise PabulibError(number, f"unexpected {section} section (expected {expected})")
            if section == "PROJECTS":
                r.vote_type, r.max_length = _check_meta(meta, number)
            seen.append(section)
            header = None
            continue
        if not seen:
            raise PabulibError(number, "the file must start with a META section")
        if header is None:
            header = _header(seen[-1], fields, number, r.vote_type)
            if seen[-1] == "VOTES":
                r.votes_header = number
            continue
        if len(fields) != len(header):
            raise PabulibError(number, f"expected {len(header)} fields, found {len(fields)}")
        if seen[-1] == "VOTES":
            _ballot(r, header, fields, number)
            continue
        row = dict(zip(header, fields, strict=True))
        if seen[-1] == "META":
            key = row["key"].strip()
            if key in meta:
                raise PabulibError(number, f"META key {key!r} given twice")
            meta[key] = (number, row["value"].strip())
        elif seen[-1] == "PROJECTS":
            project = _project(row, number)
            if project.id in projects:
                raise PabulibError(number, f"project {project.id!r} listed twice")
            projects[project.id] = project
    if len(seen) < len(SECTIONS) or header is None:
        missing = SECTIONS[len(seen)] if len(seen) < len(SECTIONS) else f"{seen[-1]} header"
        raise PabulibError(last + 1, f"file ends before the {missing}")
    for key, actual in (("num_projects", len(projects)), ("num_votes", r.voters.count)):
        if key in meta and meta[key][1] != str(actual):
            number, value = meta[key]
            section = "PROJECTS" if key == "num_projects" else "VOTES"
            r.warnings.add(f"{key} is {value} but {section} has {actual}: {actual} counted", number)
    return Election(
        projects=tuple(projects.values()),
        ballots=tuple(
            Ballot(b.voter_id, b.projects, b.points, b.extra, w) if w > 1 else b
            for b, w in zip(r.ballots, r.weights or repeat(1), strict=False)
        ),
        budget=_money(meta["budget"][1], "budget", meta["budget"][0]),
        vote_type=r.vote_type,  # type: ignore[arg-type]
        meta={k: v for k, (_, v) in meta.items() if k not in DERIVED_META},
        warnings=r.warnings.text(),
    )


def _check_meta(meta: dict[str, tuple[int, str]], number: int) -> tuple[str, int | None]:
    for key in ("budget", "vote_type"):
        if key not in meta:
            raise PabulibError(number, f"META has no {key!r}")
    line, vote_type = meta["vote_type"]
    if vote_type not in VOTE_TYPES:
        raise PabulibError(line, f"unsupported vote_type {vote_type!r}")
    _money(meta["budget"][1], "budget", meta["budget"][0])
    max_length = None
    if "max_length" in meta:
        max_length = _whole(meta["max_length"][1], "max_length", meta["max_length"][0])
    return vote_type, max_length


def _header(section: str, fields: list[str], number: int, vote_type: str) -> list[str]:
    header = [f.strip() for f in fields]
    required = _REQUIRED[section]
    if section == "VOTES" and vote_type in POINTS_TYPES:
        required = (*required, "points")
    for column in required:
        if column not in header:
            raise PabulibError(number, f"{section} header has no {column!r} column")
    if len(set(header)) != len(header):
        raise PabulibError(number, f"{section} header repeats a column")
    return header


def _project(row: dict[str, str], number: int) -> Project:
    pid = row["project_id"].strip()
    if not pid:
        raise PabulibError(number, "empty project_id")
    cost = _whole(row["cost"], "cost", number)
    extra = {k: v for k, v in row.items() if k not in ("project_id", "cost", "name")}
    return Project(pid, cost, row.get("name", ""), extra)


_REPEAT = {
    "approval": "a project named twice in one vote: counted each time, as the file's votes "
    "column does (MES and pabutools count it once)",
    "cumulative": "a project named twice in one vote: its points counted each time, as the "
    "file's score column does (pabutools keeps the last)",
    "ordinal": "a project ranked twice in one vote: its first place kept",
}
_REPEAT["choose-1"] = _REPEAT["scoring"] = _REPEAT["approval"]
_NO_POINTS = "a vote with an empty points field, read as an empty ballot (as pabutools reads it)"


def _ballot(r: _Reader, header: list[str], fields: list[str], number: int) -> None:
    # VOTES rows are most of a file: fields are taken by position, not through a dict
    if r.at is None:
        r.at = {column: i for i, column in enumerate(header)}
    at = r.at
    voter = fields[at["voter_id"]].strip()
    if not voter:
        raise PabulibError(number, "empty voter_id")
    if not r.voters.add(voter, number):
        raise PabulibError(number, f"voter {voter!r} listed twice")
    raw = fields[at["vote"]].strip()
    if not raw:
        named: tuple[str, ...] = ()
    elif " " in raw:
        named = tuple(p.strip() for p in raw.split(","))
    else:
        named = tuple(raw.split(","))
    vote_type = r.vote_type
    if not all(map(r.projects.__contains__, named)):
        unknown = next(p for p in named if p not in r.projects)
        raise PabulibError(number, f"vote names unknown project {unknown!r}")
    if len(set(named)) != len(named):
        r.warnings.add(_REPEAT[vote_type], number)
        if vote_type == "ordinal":
            named = tuple(dict.fromkeys(named))
    if vote_type == "choose-1" and len(named) > 1:
        raise PabulibError(number, f"choose-1 vote names {len(named)} projects")
    if vote_type == "ordinal" and r.max_length is not None and len(named) > r.max_length:
        limit = r.max_length
        raise PabulibError(number, f"vote ranks {len(named)} projects, max_length is {limit}")
    points = None
    if vote_type in POINTS_TYPES:
        raw_points = fields[at["points"]].strip()
        if named and not raw_points:
            r.warnings.add(_NO_POINTS, number)
            named = ()
        points = tuple(_whole(p, "points", number) for p in raw_points.split(",")) if named else ()
        if len(points) != len(named):
            raise PabulibError(number, f"{len(named)} projects but {len(points)} points")
        points = r.share(points)  # type: ignore[assignment]
    named = r.share(named)  # type: ignore[assignment]
    if r.merge:
        key = (named, points)
        at = r.distinct.get(key)
        if at is None:
            r.distinct[key] = len(r.ballots)
            r.ballots.append(Ballot(voter, named, points))
            r.weights.append(1)
        else:
            r.weights[at] += 1
        return
    skip = ("voter_id", "vote", "points") if vote_type in POINTS_TYPES else ("voter_id", "vote")
    extra = {k: v for k, v in zip(header, fields, strict=True) if k not in skip}
    r.ballots.append(Ballot(voter, named, points, extra))


def read_pb(path: str | Path, *, merge: bool = False) -> Election:
    """Read and parse a ``.pb`` file (UTF-8; ``OSError`` if it cannot be read), line by
    line: with ``merge`` (see :func:`parse_pb`) memory grows with the distinct ballots."""
    file = Path(path)
    return _parse(lambda: _decoded(file), merge)


def _decoded(path: Path) -> Iterator[str]:
    with path.open("rb") as f:
        for number, data in enumerate(f, start=1):
            try:
                yield data.decode("utf-8")
            except UnicodeDecodeError:
                raise PabulibError(number, "not valid UTF-8") from None


def format_pb(election: Election) -> str:
    """The ``.pb`` text of ``election``; :func:`parse_pb` reads it back equal.

    Extra columns are the union of the ``extra`` keys (a missing value is written empty);
    text containing a line break cannot be written.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quotechar='"', lineterminator="\n")

    def row(*fields: object) -> None:
        for field in fields:
            if "\n" in str(field) or "\r" in str(field):
                raise ValueError(f"cannot write a line break in a .pb field: {field!r}")
        writer.writerow(fields)

    if any(b.weight > 1 for b in election.ballots):
        raise ValueError("cannot write merged ballots: read the file without merge")
    derived = {
        "num_projects": len(election.projects),
        "num_votes": len(election.ballots),
        "budget": money_text(election.budget),
        "vote_type": election.vote_type,
    }
    items = [(k, v) for k, v in election.meta.items() if k not in DERIVED_META]
    lead = 0
    while lead < len(items) and items[lead][0] in _LEADING_META:
        lead += 1
    out.write("META\n")
    row("key", "value")
    for key, value in [*items[:lead], *derived.items(), *items[lead:]]:
        row(key, value)
    out.write("PROJECTS\n")
    extras = list(dict.fromkeys(k for p in election.projects for k in p.extra))
    row("project_id", "cost", "name", *extras)
    for p in election.projects:
        row(p.id, p.cost, p.name, *(p.extra.get(k, "") for k in extras))
    out.write("VOTES\n")
    cumulative = election.vote_type in POINTS_TYPES
    extras = list(dict.fromkeys(k for b in election.ballots for k in b.extra))
    row("voter_id", "vote", *(["points"] if cumulative else []), *extras)
    for b in election.ballots:
        points = [",".join(map(str, b.points or ()))] if cumulative else []
        row(b.voter_id, ",".join(b.projects), *points, *(b.extra.get(k, "") for k in extras))
    return out.getvalue()
