"""``python -m bot pb tally``, run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.counting import count, id_key, read_pb

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PABULIB = SHARED / "pabulib"
CORPUS = SHARED / "pabulib-corpus"
SWIECIE = PABULIB / "Poland_Swiecie_2023.pb"  # the one whose META rule is equalshares/add1
# One file for each META rule (and each ballot type), counted as the city counted
BY_RULE = [
    PABULIB / "Poland_Warszawa_2019_Ursynow.pb",  # greedy
    PABULIB / "Poland_Krakow_2020_Zwierzyniec.pb",  # greedy, ordinal
    PABULIB / "Poland_Czestochowa_2024_Rakow.pb",  # greedy, cumulative
    SWIECIE,  # equalshares/add1
    CORPUS / "Poland_Wroclaw_2017_Rejon_nr_11_750.pb",  # greedy-no-skip, withdrawn project
    CORPUS / "Poland_Lodz_2020_Nr_33.pb",  # greedy-threshold
    CORPUS / "Poland_Warszawa_2024_Wesola.pb",  # greedy-exclusive
    CORPUS / "Poland_Poznan_2026_4_-_Gluszyna_Krzesiny-Pokrzywno-Garaszewo_Staroleka-"
    "Minikowo_Szczepankowo-Splawie-Krzesinki__large.pb",  # greedy-custom
    CORPUS / "Poland_Wieliczka_2023_Green_Budget.pb",  # equalshares/add1-comparison
]
RULE_USED = {
    "greedy-threshold": "greedy",
    "greedy-exclusive": "greedy",
    "equalshares/add1": "mes",
    "equalshares/add1-comparison": "mes-comparison",
}


def needs(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not there (a clone without shared/)")
    return path


def tally(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "pb", "tally", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("path", BY_RULE, ids=lambda p: p.stem[:40])
def test_tally_counts_the_meta_rule_as_the_city_did(path: Path) -> None:
    done = tally(needs(path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    election = read_pb(path)
    meta = election.meta["rule"]
    marks = ("1", "2") if meta == "greedy-custom" else ("1",)
    funded = {p.id for p in election.projects if p.extra["selected"] in marks}
    assert set(result["selected"]) == funded
    assert all(isinstance(pid, str) for pid in result["selected"])
    assert result["meta_rule"] == meta
    assert result["rule"] == RULE_USED.get(meta, meta)
    assert result["budget"] == election.budget
    assert result["spent"] == sum(p.cost for p in election.projects if p.id in funded)
    assert result["scores"].keys() == {p.id for p in election.projects}
    if result["rule"].startswith("mes"):
        assert (result["completion"], result["satisfaction"]) == ("add1-budget", "cost")
        assert result["ties"] == ["cost", "votes", "order"]
    else:
        assert result["ties"] == ["order"]
        assert result["completion"] is None


def test_tally_with_rule_greedy_on_the_mes_file() -> None:
    done = tally(needs(SWIECIE), "--rule", "greedy")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    greedy = count(read_pb(SWIECIE), "greedy")
    assert result["rule"] == "greedy"
    assert result["selected"] == list(greedy.selected)
    assert result["spent"] == greedy.spent <= result["budget"]
    mes = {p.id for p in read_pb(SWIECIE).projects if p.extra["selected"] == "1"}
    assert set(result["selected"]) != mes  # the file is one where the rules disagree


def test_tally_options_override_the_meta() -> None:
    babie = needs(CORPUS / "Poland_Gdynia_2020_Babie_Doly__small.pb")
    as_city = json.loads(tally(babie).stdout)
    assert "1" in as_city["selected"] and "5" not in as_city["selected"]
    cheaper = json.loads(tally(babie, "--ties", "cost,id").stdout)
    assert "5" in cheaper["selected"] and "1" not in cheaper["selected"]
    assert cheaper["ties"] == ["cost", "id"] and cheaper["rule"] == "greedy-no-skip"
    both = json.loads(tally(babie, "--irresolute").stdout)
    assert sorted(both["selected"]) in both["tied"] and len(both["tied"]) == 2
    mes = tally(babie, "--rule", "mes", "--completion", "add1u", "--irresolute")
    assert json.loads(mes.stdout)["tied"] == [["2", "4", "5"]], mes.stderr
    nr33 = needs(CORPUS / "Poland_Lodz_2020_Nr_33.pb")
    assert "W068NR" in json.loads(tally(nr33, "--threshold", "0").stdout)["selected"]
    wieliczka = needs(CORPUS / "Poland_Wieliczka_2023_Green_Budget.pb")
    stopping = json.loads(tally(wieliczka, "--rule", "mes", "--completion", "add1").stdout)
    assert {"66", "67"} <= set(stopping["selected"])
    assert stopping["completion"] == "add1"
    cardinal = json.loads(tally(SWIECIE, "--satisfaction", "cardinality").stdout)
    assert cardinal["satisfaction"] == "cardinality"


def test_tally_prints_warnings_and_a_decimal_budget_exactly() -> None:
    amsterdam = json.loads(tally(needs(CORPUS / "Netherlands_Amsterdam_604.pb")).stdout)
    assert len(amsterdam["warnings"]) == 1
    assert amsterdam["warnings"][0].startswith("line 1927: a project named twice")
    krakow = needs(CORPUS / "Poland_Krakow_2024_Lagiewniki-Borek_Falecki.pb")
    assert json.loads(tally(krakow).stdout)["budget"] == "1607513.56"


def test_tally_asks_for_a_rule_where_the_meta_rule_is_unknown() -> None:
    zurich = needs(CORPUS / "Switzerland_Zurich_S5R.pb")
    message = _one_line_error(tally(zurich))
    assert "META rule is 'unknown'" in message and "--rule" in message
    done = tally(zurich, "--rule", "greedy")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["meta_rule"] == "unknown" and result["rule"] == "greedy"
    assert result["scores"]["24"] == 198


def test_tally_refuses_bad_options_with_exit_2() -> None:
    done = tally(needs(SWIECIE), "--ties", "luck")
    assert done.returncode == 2
    assert "expected keys among order, cost" in done.stderr
    message = _one_line_error(tally(SWIECIE, "--rule", "mes-comparison", "--irresolute"))
    assert "irresolute count is supported for the greedy rules and for mes" in message
    done = tally(SWIECIE, "--irresolute", "--completion", "none")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert sorted(result["selected"], key=id_key) in result["tied"]


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
    assert "--irresolute" in done.stdout and "--completion" in done.stdout
