"""The audit trail and attendance corrections as staff run them, and CSV exports that a
spreadsheet opens without running a resident's formula (real SQLite file, subprocesses)."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import pytest

from bot.core.rendering.spreadsheet import csv_text, safe_cell
from tests.conftest import run_cli

STAFF = "0700000003"  # demo staff
RESIDENT = "0700000001"  # no role
FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture
def town(tmp_path: Path) -> Path:
    assert run_cli("init", "--demo", cwd=tmp_path).returncode == 0
    return tmp_path


def ok(*args: str, cwd: Path, stdin: str | None = None) -> str:
    result = run_cli(*args, cwd=cwd, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(*args: str, cwd: Path) -> str:
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    return line


def seed_row(town: Path) -> str:
    [row] = [r for r in ok("hearing", "export", cwd=town).splitlines() if r.startswith("2013-01")]
    return row


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_late_check_in_is_refused_and_a_correction_is_audited(town: Path) -> None:
    assert seed_row(town) == "2013-01-26,execution,111,65,7"
    checkin = ("hearing", "checkin", "1", "--walk-in", "f")
    assert "check-in for hearing 1 closed at 2013-01-26 16:00" in refused(*checkin, cwd=town)
    assert "needs a staff member" in refused(*checkin, "--by", STAFF, cwd=town)
    assert "is not staff of ak-chiy" in refused(
        *checkin, "--by", RESIDENT, "--reason", "sheet", cwd=town
    )
    assert seed_row(town) == "2013-01-26,execution,111,65,7"

    reason = ("--reason", "paper sheet entered next day")
    assert ok(*checkin, "--by", STAFF, *reason, cwd=town) == "walk-in: checked in\n"
    assert seed_row(town) == "2013-01-26,execution,112,66,7"
    uncheck = ("hearing", "uncheck", "1", "--walk-in", "f")
    assert "needs --by PHONE (staff) and --reason" in refused(*uncheck, cwd=town)
    assert ok(*uncheck, "--by", STAFF, *reason, cwd=town) == (
        "hearing 1: taken off the attendance\n"
    )
    assert seed_row(town) == "2013-01-26,execution,111,65,7"

    trail = [line.split("\t") for line in ok("audit", cwd=town).splitlines()]
    staff_id = trail[-1][2].split()[1]
    assert [row[2:] for row in trail[-2:]] == [
        [f"resident {staff_id} (cli)", action, "hearing", "1",
         "walk-in f resident; reason: paper sheet entered next day"]
        for action in ("attendance added", "attendance removed")
    ]  # fmt: skip
    assert all(row[1] == "ak-chiy" for row in trail)
    assert STAFF[1:] not in ok("audit", cwd=town)
    assert ok("audit", "--since", "2999-01-01", cwd=town) == ""
    out = town / "audit.csv"
    assert ok("audit", "--csv", str(out), "--municipality", "ak-chiy", cwd=town) == ""
    exported = rows_of(out.read_text(encoding="utf-8"))
    assert exported[0] == ["time", "municipality", "who", "action", "object", "object_id", "detail"]
    assert [row[3] for row in exported[-2:]] == ["attendance added", "attendance removed"]


def test_reimporting_the_paper_sheet_keeps_the_seed_table(town: Path) -> None:
    sheet = town / "sheet.csv"
    sheet.write_text("phone,gender,role\n,f,\n,m,guest\n", encoding="utf-8")
    args = ("hearing", "import-attendance", "1", str(sheet), "--by", STAFF, "--reason", "paper")
    assert ok(*args, cwd=town) == "hearing 1: 2 counted, 0 already checked in\n"
    assert seed_row(town) == "2013-01-26,execution,113,66,7"
    assert ok(*args, cwd=town) == "hearing 1: 0 counted, 2 already checked in\n"
    assert seed_row(town) == "2013-01-26,execution,113,66,7"
    assert "closed at" in refused("hearing", "import-attendance", "1", str(sheet), cwd=town)


@pytest.mark.parametrize(
    "args",
    [["--since", "yesterday"], ["--municipality", "atlantis"], ["--csv", "/nonexistent/a.csv"]],
)
def test_bad_audit_requests_get_one_line(town: Path, args: list[str]) -> None:
    assert refused("audit", *args, cwd=town)


def test_audit_help() -> None:
    result = run_cli("audit", "--help", cwd=Path.cwd())
    assert result.returncode == 0 and "--since DATE" in result.stdout


def test_a_proposed_formula_is_neutralised_in_every_export(town: Path) -> None:
    ok("demo", cwd=town, stdin=f"PROPOSE {FORMULA}\n")
    [problem] = [
        line.split("\t")[0]
        for line in ok("problem", "list", cwd=town).splitlines()
        if line.endswith(FORMULA)
    ]
    ok("problem", "approve", problem, "--by", STAFF, cwd=town)
    created = ok(
        "poll", "create", "--title", "Priorities", "--type", "choose1", "--option", "Roads",
        "--problem", problem, "--closes", "2999-01-01 10:00", cwd=town,
    )  # fmt: skip
    poll = created.split()[1]
    with sqlite3.connect(town / "civic-bot.db") as conn:  # closed: results are shown
        conn.execute("UPDATE polls SET opens_at = '2020-01-01', closes_at = '2020-01-02'")
    results = rows_of(ok("poll", "export", poll, cwd=town))
    labels = [row[4] for row in results[1:] if row[0] == "all"]
    assert labels == ["Roads", "'" + FORMULA]
    # staff-written text is treated alike: a rating service, a correction's reason
    ok("rating", "open", "--name", "2026", "--service", "@SUM(A1)", "--service=-1+1", cwd=town)
    ok("demo", cwd=town, stdin="RATE 1 4\nRATE 2 5\n")
    ratings = rows_of(ok("rating", "export", cwd=town))
    # the round just opened (the demo's closed round of 2015 comes before it)
    assert [row[1:] for row in ratings if row[2] == "all"][-2:] == [
        ["'@SUM(A1)", "all", "1", "4.00"],
        ["'-1+1", "all", "1", "5.00"],
    ]
    ok("hearing", "checkin", "1", "--walk-in", "m", "--by", STAFF, "--reason", "=cmd()", cwd=town)
    audit = rows_of(ok("audit", "--csv", "-", cwd=town))
    assert audit[-1][-1] == "walk-in m resident; reason: =cmd()"  # not at the cell's start
    approved = [row for row in audit if row[3] == "problem approved"]
    assert approved and approved[0][4:6] == ["problem", problem]


def test_only_text_that_would_run_is_neutralised() -> None:
    cells = [FORMULA, "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "a=b", -5, 3.5, "-5", "+7", "3.60"]
    assert [safe_cell(cell) for cell in cells] == [
        "'" + FORMULA, "'+1+2", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "a=b", -5, 3.5, "-5",
        "+7", "3.60",
    ]  # fmt: skip
    assert csv_text(["a", "b"], [[-5, "=1"]]) == "a,b\n-5,'=1\n"
