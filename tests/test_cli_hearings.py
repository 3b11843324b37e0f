"""The hearing commands as a staff member runs them, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import run_cli

SEED_TABLE = {
    "2013-01-26,execution,111,65,7",
    "2014-03-01,execution,103,21,5",
    "2015-02-20,execution,200,84,11",
    "2013-06-28,formation,122,56,4",
    "2014-06-13,formation,113,28,–",
}


@pytest.fixture
def town(tmp_path: Path) -> Path:
    assert run_cli("init", "--demo", cwd=tmp_path).returncode == 0
    return tmp_path


def ok(*args: str, cwd: Path, stdin: str | None = None) -> str:
    result = run_cli(*args, cwd=cwd, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_demo_export_reproduces_the_seed_table(town: Path) -> None:
    lines = ok("hearing", "export", cwd=town).splitlines()
    assert lines[0] == "date,kind,participants,women,deputies"
    assert set(lines[1:]) == SEED_TABLE


def midday() -> tuple[dict[str, str], datetime]:
    """A TIMEZONE in which it is about noon now, and that local now: a hearing a few
    minutes ahead is on today's date, so its check-in window is open."""
    offset = 12 - datetime.now(UTC).hour  # -11 .. 12 hours
    zone = f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"  # Etc/GMT-6 is UTC+6
    return {"TIMEZONE": zone}, datetime.now(ZoneInfo(zone))


def test_a_hearing_from_creation_to_the_report(town: Path) -> None:
    env, now = midday()
    at = (now + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")

    def ok(*args: str, stdin: str | None = None) -> str:
        result = run_cli(*args, cwd=town, stdin=stdin, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    created = ok(
        "hearing", "create", "--kind", "formation", "--at", at, "--place", "Club",
        "--village", "Ak-Chiy",
    )  # fmt: skip
    # 28: after the demo's five seed hearings and its 22 other meetings
    assert created == f"hearing 28 created (draft): {at}, Club\n"
    published = ok("hearing", "publish", "28")
    assert published.startswith("hearing 28: published; ")
    assert ok("hearing", "publish", "28") == "hearing 28: published; 0 invitation(s) queued\n"
    reply = ok("demo", stdin="LANG EN\nH28 YES\n").splitlines()[-1]
    code = reply.rsplit(" ", 1)[1]
    shown = ok("hearing", "show", "28", "--names")
    assert "Ak-Chiy\t" in shown and "\t1\t0\t0\t" in shown
    assert "yes\tAk-Chiy\t+996***0001\t" in shown
    assert ok("hearing", "checkin", "28", "--code", code).endswith(": checked in\n")
    assert "already checked in" in ok("hearing", "checkin", "28", "--phone", "0700000001")
    assert ok("hearing", "checkin", "28", "--walk-in", "f", "--role", "guest") == (
        "walk-in: checked in\n"
    )
    sheet = town / "sheet.csv"
    sheet.write_text("phone,gender,role\n0700000014,,\n,m,guest\n0700000001,,\n", encoding="utf-8")
    assert ok("hearing", "import-attendance", "28", str(sheet)) == (
        "hearing 28: 2 counted, 1 already checked in\n"
    )
    bad = town / "bad.csv"
    bad.write_text("phone,gender,role\n0700999999,,\n,x,\n", encoding="utf-8")
    result = run_cli("hearing", "import-attendance", "28", str(bad), cwd=town, env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines()[:2] == [
        f"{bad}: line 2: +996700999999 is not in the register",
        f"{bad}: line 3: a walk-in (no phone) needs gender f or m",
    ]
    report = ok("hearing", "show", "28")
    with sqlite3.connect(town / "civic-bot.db") as conn:
        (gender,) = conn.execute("SELECT gender FROM residents WHERE id = 1").fetchone()
    women = 2 + (gender == "f")  # the walk-in guest, deputy 14 and perhaps resident 1
    assert f"attendance: 4 participants, {women} women, 1 deputies" in report


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["create", "--kind", "formation", "--at", "2001-01-01 10:00", "--place", "X"],
         "a hearing cannot be in the past"),
        (["publish", "99"], "no hearing 99"),
        (["publish", "1"], "hearing 1 has already begun"),
        (["checkin", "1", "--phone", "0700999999"], "check-in for hearing 1 closed at"),
    ],
)  # fmt: skip
def test_bad_requests_change_nothing(town: Path, args: list[str], reason: str) -> None:
    before = ok("hearing", "export", cwd=town)
    result = run_cli("hearing", *args, cwd=town)
    assert result.returncode == 2
    assert reason in result.stderr
    assert ok("hearing", "export", cwd=town) == before


def test_every_kind_of_meeting_from_the_command_line(town: Path) -> None:
    """``--meeting`` (a PRA session with its age group, a training...); a hearing still
    needs its budget stage, and only a PRA session has an age group: refused, nothing
    created."""
    at = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d 10:00")
    listed = ok("hearing", "list", cwd=town)
    for args, reason in (
        (["--place", "Club"], "kind must be one of formation, execution"),
        (["--meeting", "training", "--age-group", "18-35", "--place", "Club"],
         "only a PRA session has an age group"),
    ):  # fmt: skip
        result = run_cli("hearing", "create", "--at", at, *args, cwd=town)
        assert result.returncode == 2 and reason in result.stderr, result.stderr
    assert ok("hearing", "list", cwd=town) == listed
    created = ok("hearing", "create", "--meeting", "pra", "--age-group", "55+", "--at", at,
                 "--place", "Club", cwd=town)  # fmt: skip
    assert created == f"pra 28 created (draft): {at}, Club\n"
    assert ok("hearing", "create", "--meeting", "training", "--at", at, "--place", "Office",
              cwd=town).startswith("training 29 created (draft): ")  # fmt: skip
    listed = ok("hearing", "list", cwd=town).splitlines()
    assert listed[-2].split("\t")[2:4] == ["pra 55+", "draft"]
    assert listed[-1].split("\t")[2:4] == ["training", "draft"]
    assert listed[0].split("\t")[2] == "pra 18-35"  # the demo's first meeting, 2012
    assert set(ok("hearing", "export", cwd=town).splitlines()[1:]) == SEED_TABLE
