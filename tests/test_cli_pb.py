"""``python -m bot pb tally``, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.counting import count, read_pb

REPO = Path(__file__).resolve().parents[1]
PABULIB = REPO.parent / "shared" / "pabulib"
FILES = sorted(PABULIB.glob("*.pb"))
SWIECIE = PABULIB / "Poland_Swiecie_2023.pb"  # the one whose META rule is equalshares/add1


def tally(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "pb", "tally", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_pabulib_files_are_there() -> None:
    assert len(FILES) >= 5, f"expected the pabulib files in {PABULIB}"
    assert SWIECIE in FILES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_tally_uses_the_meta_rule_and_reproduces_the_selected_column(path: Path) -> None:
    done = tally(path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    election = read_pb(path)
    funded = {p.id for p in election.projects if p.extra["selected"] == "1"}
    assert set(result["selected"]) == funded
    assert all(isinstance(pid, str) for pid in result["selected"])
    expected_rule = {"equalshares/add1": "mes"}.get(election.meta["rule"], election.meta["rule"])
    assert result["rule"] == expected_rule
    assert result["budget"] == election.budget
    assert result["spent"] == sum(p.cost for p in election.projects if p.id in funded)
    assert result["scores"].keys() == {p.id for p in election.projects}


def test_tally_with_rule_greedy_on_the_mes_file() -> None:
    done = tally(SWIECIE, "--rule", "greedy")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    greedy = count(read_pb(SWIECIE), "greedy")
    assert result["rule"] == "greedy"
    assert result["selected"] == list(greedy.selected)
    assert result["spent"] == greedy.spent <= result["budget"]
    mes = {p.id for p in read_pb(SWIECIE).projects if p.extra["selected"] == "1"}
    assert set(result["selected"]) != mes  # the file is one where the rules disagree


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_tally_reports_a_malformed_file_with_its_line_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pb"
    bad.write_text(
        "META\nkey;value\nbudget;100\nvote_type;approval\nrule;greedy\n"
        "PROJECTS\nproject_id;cost\na;10\nVOTES\nvoter_id;vote\n1;a\n2;zz\n",
        encoding="utf-8",
    )
    message = _one_line_error(tally(bad))
    assert "bad.pb" in message
    assert "line 12" in message
    assert "unknown project 'zz'" in message


def test_tally_reports_a_missing_file_and_exits_2(tmp_path: Path) -> None:
    message = _one_line_error(tally(tmp_path / "nowhere.pb"))
    assert "no such file" in message


def test_tally_refuses_an_unsupported_meta_rule_unless_told_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "odd.pb"
    path.write_text(
        "META\nkey;value\nbudget;100\nvote_type;approval\nrule;sequential-phragmen\n"
        "PROJECTS\nproject_id;cost\na;10\nVOTES\nvoter_id;vote\n1;a\n",
        encoding="utf-8",
    )
    message = _one_line_error(tally(path))
    assert "sequential-phragmen" in message
    assert "--rule" in message
    done = tally(path, "--rule", "mes")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["selected"] == ["a"]


def test_tally_help_describes_the_command() -> None:
    done = tally("--help")
    assert done.returncode == 0
    assert "FILE.pb" in done.stdout
    assert "--rule" in done.stdout
    assert "equalshares/add1" in done.stdout
