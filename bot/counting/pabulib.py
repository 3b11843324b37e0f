"""Read and write pabulib ``.pb`` files (https://pabulib.org/format).

A file has three sections, each a line ``META``, ``PROJECTS`` or ``VOTES`` followed by a
``;``-separated header row and data rows; fields may be double-quoted (``""`` escapes a
quote). ``META`` rows are ``key;value`` and must give ``budget`` and ``vote_type``;
``PROJECTS`` needs ``project_id`` and ``cost``; ``VOTES`` needs ``voter_id`` and ``vote``
(comma-separated project ids) and, for cumulative ballots, ``points``. Every problem is
reported as a :class:`PabulibError` carrying the 1-based line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.counting.election import VOTE_TYPES, Ballot, Election, Project

SECTIONS = ("META", "PROJECTS", "VOTES")
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


def _rows(text: str) -> Iterator[tuple[int, str | None, list[str]]]:
    """(line number, section name or None, fields) for each non-blank line."""
    # Split on \n only: str.splitlines() also breaks on form feeds and the like, which would
    # throw the line numbers off.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if number == 1:
            line = line.lstrip("\ufeff")
        if not line.strip():
            continue
        if line.strip().upper() in SECTIONS:
            yield number, line.strip().upper(), []
            continue
        try:
            fields = next(csv.reader([line], delimiter=";", quotechar='"', strict=True))
        except csv.Error as exc:
            raise PabulibError(number, f"bad quoting ({exc})") from None
        yield number, None, fields


def parse_pb(text: str) -> Election:
    """Parse the text of a ``.pb`` file (``PabulibError`` says where it is malformed)."""
    meta: dict[str, tuple[int, str]] = {}
    projects: dict[str, Project] = {}
    ballots: dict[str, Ballot] = {}
    seen: list[str] = []
    header: list[str] | None = None
    vote_type = ""
    max_length: int | None = None
    last = 0
    for number, section, fields in _rows(text):
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
                vote_type, max_length = _check_meta(meta, number)
            seen.append(section)
            header = None
            continue
        if not seen:
            raise PabulibError(number, "the file must start with a META section")
        if header is None:
            header = _header(seen[-1], fields, number, vote_type)
            continue
        if len(fields) != len(header):
            raise PabulibError(number, f"expected {len(header)} fields, found {len(fields)}")
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
        else:
            ballot = _ballot(row, number, vote_type, max_length, projects.__contains__)
            if ballot.voter_id in ballots:
                raise PabulibError(number, f"voter {ballot.voter_id!r} listed twice")
            ballots[ballot.voter_id] = ballot
    if len(seen) < len(SECTIONS) or header is None:
        missing = SECTIONS[len(seen)] if len(seen) < len(SECTIONS) else f"{seen[-1]} header"
        raise PabulibError(last + 1, f"file ends before the {missing}")
    for key, actual in (("num_projects", len(projects)), ("num_votes", len(ballots))):
        if key in meta and meta[key][1] != str(actual):
            number, value = meta[key]
            raise PabulibError(number, f"{key} is {value} but the file has {actual}")
    return Election(
        projects=tuple(projects.values()),
        ballots=tuple(ballots.values()),
        budget=_whole(meta["budget"][1], "budget", meta["budget"][0]),
        vote_type=vote_type,  # type: ignore[arg-type]
        meta={k: v for k, (_, v) in meta.items() if k not in DERIVED_META},
    )


def _check_meta(meta: dict[str, tuple[int, str]], number: int) -> tuple[str, int | None]:
    for key in ("budget", "vote_type"):
        if key not in meta:
            raise PabulibError(number, f"META has no {key!r}")
    line, vote_type = meta["vote_type"]
    if vote_type not in VOTE_TYPES:
        raise PabulibError(line, f"unsupported vote_type {vote_type!r}")
    _whole(meta["budget"][1], "budget", meta["budget"][0])
    max_length = None
    if "max_length" in meta:
        max_length = _whole(meta["max_length"][1], "max_length", meta["max_length"][0])
    return vote_type, max_length


def _header(section: str, fields: list[str], number: int, vote_type: str) -> list[str]:
    header = [f.strip() for f in fields]
    required = _REQUIRED[section]
    if section == "VOTES" and vote_type == "cumulative":
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


def _ballot(
    row: dict[str, str],
    number: int,
    vote_type: str,
    max_length: int | None,
    known: Callable[[str], bool],
) -> Ballot:
    voter = row["voter_id"].strip()
    if not voter:
        raise PabulibError(number, "empty voter_id")
    raw = row["vote"].strip()
    named = tuple(p.strip() for p in raw.split(",")) if raw else ()
    for project in named:
        if not known(project):
            raise PabulibError(number, f"vote names unknown project {project!r}")
    if len(set(named)) != len(named):
        raise PabulibError(number, "vote names a project twice")
    if vote_type == "choose-1" and len(named) > 1:
        raise PabulibError(number, f"choose-1 vote names {len(named)} projects")
    if vote_type == "ordinal" and max_length is not None and len(named) > max_length:
        raise PabulibError(number, f"vote ranks {len(named)} projects, max_length is {max_length}")
    points = None
    if vote_type == "cumulative":
        raw_points = row["points"].strip()
        points = (
            tuple(_whole(p, "points", number) for p in raw_points.split(",")) if raw_points else ()
        )
        if len(points) != len(named):
            raise PabulibError(number, f"{len(named)} projects but {len(points)} points")
    skip = ("voter_id", "vote", "points") if vote_type == "cumulative" else ("voter_id", "vote")
    extra = {k: v for k, v in row.items() if k not in skip}
    return Ballot(voter, named, points, extra)


def read_pb(path: str | Path) -> Election:
    """Read and parse a ``.pb`` file (UTF-8; ``OSError`` if it cannot be read)."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PabulibError(line, "not valid UTF-8") from None
    return parse_pb(text)


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

    derived = {
        "num_projects": len(election.projects),
        "num_votes": len(election.ballots),
        "budget": election.budget,
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
    cumulative = election.vote_type == "cumulative"
    extras = list(dict.fromkeys(k for b in election.ballots for k in b.extra))
    row("voter_id", "vote", *(["points"] if cumulative else []), *extras)
    for b in election.ballots:
        points = [",".join(map(str, b.points or ()))] if cumulative else []
        row(b.voter_id, ",".join(b.projects), *points, *(b.extra.get(k, "") for k in extras))
    return out.getvalue()
