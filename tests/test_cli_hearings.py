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
    assert created == f"hearing 6 created (draft): {at}, Club\n"
    published = ok("hearing", "publish", "6")
    assert published.startswith("hearing 6: published; ")
    assert ok("hearing", "publish", "6") == "hearing 6: published; 0 invitation(s) queued\n"
    reply = ok("demo", stdin="LANG EN\nH6 YES\n").splitlines()[-1]
    code = reply.rsplit(" ", 1)[1]
    shown = ok("hearing", "show", "6", "--names")
    assert "Ak-Chiy\t" in shown and "\t1\t0\t0\t" in shown
    assert "yes\tAk-Chiy\t+996***0001\t" in shown
    assert ok("hearing", "checkin", "6", "--code", code).endswith(": checked in\n")
    assert "already checked in" in ok("hearing", "checkin", "6", "--phone", "0700000001")
    assert ok("hearing", "checkin", "6", "--walk-in", "f", "--role", "guest") == (
        "walk-in: checked in\n"
    )
    sheet = town / "sheet.csv"
    sheet.write_text("phone,gender,role\n0700000014,,\n,m,guest\n0700000001,,\n", encoding="utf-8")
    assert ok("hearing", "import-attendance", "6", str(sheet)) == (
        "hearing 6: 2 counted, 1 already checked in\n"
    )
    bad = town / "bad.csv"
    bad.write_text("phone,gender,role\n0700999999,,\n,x,\n", encoding="utf-8")
    result = run_cli("hearing", "import-attendance", "6", str(bad), cwd=town, env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines()[:2] == [
        f"{bad}: line 2: +996700999999 is not in the register",
        f"{bad}: line 3: a walk-in (no phone) needs gender f or m",
    ]
    report = ok("hearing", "show", "6")
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
