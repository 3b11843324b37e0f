"""Budget, project and rating commands as staff run them, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.fixture
def town(tmp_path: Path) -> Path:
    assert run_cli("init", "--demo", cwd=tmp_path).returncode == 0
    return tmp_path


def ok(*args: str, cwd: Path, stdin: str | None = None) -> str:
    result = run_cli(*args, cwd=cwd, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_a_new_budget_version_and_push_it(town: Path) -> None:
    budget = town / "budget2016.csv"
    budget.write_text(
        "kind;year;code;name;village;amount;source_type;status\n"
        "revenue;2016;;Local taxes;;2 500 000;;\n"
        "spending;2016;;Roads;Kachybek;2 500 000;;\n"
        "project;2016;BRIDGE;Bridge in Kachybek;Kachybek;300000;;planned\n"
        "funding;2016;BRIDGE;Local budget;;300000;local_budget;\n",
        encoding="utf-8",
    )
    assert ok("import", "budget", str(budget), cwd=town) == (
        "budget 2016 version 1: 2 line(s), 1 project(s)\n"
    )
    assert ok("budget", "versions", cwd=town) == "2015\tversion 1\n2016\tversion 1\n"
    listed = ok("project", "list", cwd=town).splitlines()
    assert listed[-1] == "6\tBRIDGE\t300000\tplanned\t\tBridge in Kachybek"
    assert ok("budget", "push", cwd=town) == "budget summary queued to 648 household(s)\n"
    assert ok("budget", "push", cwd=town) == "budget summary queued to 0 household(s)\n"
    reply = ok("demo", cwd=town, stdin="LANG EN\nBUDGET\n").splitlines()[-1]
    # no project of 2016 in Ak-Chiy: none of 2015's is offered
    assert reply.startswith("Budget 2016: revenue 2.5 mln, spending 2.5 mln som: Ak-Chiy 0,")
    assert "PROJECT" not in reply


def test_a_bad_budget_file_lists_its_lines(town: Path) -> None:
    bad = town / "bad.csv"
    bad.write_text("kind,year,name,amount\nrevenue,2016,Tax,lots\n", encoding="utf-8")
    result = run_cli("import", "budget", str(bad), cwd=town)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{bad}: line 2: amount must be a whole non-negative number, not 'lots'",
        "civic-bot: 1 bad line(s); nothing was imported",
    ]
    assert ok("budget", "versions", cwd=town) == "2015\tversion 1\n"


def test_project_status_and_initiative_members(town: Path) -> None:
    assert ok("project", "status", "SCHOOLHALL", "in_progress", cwd=town).startswith(
        "project SCHOOLHALL: in_progress; "
    )
    ok("demo", cwd=town, stdin="JOIN 2\n")
    members = ok("project", "members", "2", cwd=town)
    assert members.startswith("Ak-Chiy\t+996***0001\t")


def test_a_rating_round_from_opening_to_export(town: Path) -> None:
    assert (
        ok(
            "rating",
            "open",
            "--name",
            "2015",
            "--service",
            "Schools",
            "--service",
            "Health post",
            cwd=town,
        )
        == "rating round 2 open with 2 service(s)\n"  # after the demo's closed round 1
    )
    ok("demo", cwd=town, stdin="R 1 4\nR 2 3\n")
    ok("demo", "--as", "+996700000003", cwd=town, stdin="R 1 2\n")
    results = ok("rating", "results", cwd=town)
    assert "  Schools: 3.00 (2)" in results
    assert "trend Health post: 3.00" in results
    rows = ok("rating", "export", cwd=town).splitlines()
    assert rows[0] == "round,service,village,ratings,average"
    assert "2. 2015,Schools,all,2,3.00" in rows
