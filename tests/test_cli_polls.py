"""Staff commands for problems and polls, run as subprocesses on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bot.core.counting import read_pb
from tests.conftest import run_cli

PABULIB = Path(__file__).resolve().parents[2] / "shared" / "pabulib"


@pytest.fixture
def town(tmp_path: Path) -> Path:
    assert run_cli("init", "--demo", cwd=tmp_path).returncode == 0
    return tmp_path


def ok(*args: str, cwd: Path, stdin: str | None = None) -> str:
    result = run_cli(*args, cwd=cwd, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def create_poll(cwd: Path, *extra: str) -> str:
    return ok(
        "poll",
        "create",
        "--title",
        "Priorities 2027",
        "--type",
        "approval",
        "--max",
        "2",
        "--option",
        "Kindergarten=400000",
        "--option",
        "Roads=457000",
        "--option",
        "Lighting=467500",
        "--closes",
        "2099-01-01 18:00",
        "--budget",
        "900000",
        "--rule",
        "greedy",
        *extra,
        cwd=cwd,
    )


def test_a_poll_from_creation_to_exported_results(town: Path) -> None:
    assert create_poll(town).startswith("poll 1 created: open")
    replies = ok("demo", "--as", "+996700000001", cwd=town, stdin="LANG EN\nV 1 2\n")
    assert "Vote in poll 1 received: 1) Kindergarten, 2) Roads" in replies
    ok("demo", "--as", "+996700000003", cwd=town, stdin="V 2\n")
    assert ok("poll", "ballot", "1", "--phone", "0700 000 004", "--choices", "2 3", cwd=town) == (
        "poll 1: paper ballot counted\n"
    )
    refused = run_cli("poll", "ballot", "1", "--phone", "+996700000001", "--choices", "3", cwd=town)
    assert refused.returncode == 2
    assert refused.stderr.strip() == "civic-bot: ballot refused: voted_by_phone"
    # open: turnout only, nothing per option, and no ballots out
    shown = ok("poll", "show", "1", cwd=town)
    assert "ballots 3 of " in shown
    assert "Roads" not in shown and "secret ballot" in shown
    assert ok("poll", "export", "1", cwd=town).splitlines()[1:] == [
        "turnout,all,3,,eligible 3728,,,,"
    ]
    refused = run_cli("poll", "export", "1", "--format", "pb", cwd=town)
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "is not closed" in refused.stderr
    with sqlite3.connect(town / "civic-bot.db") as conn:  # time passes: the poll closes
        conn.execute("UPDATE polls SET opens_at = '2020-01-01', closes_at = '2020-01-02'")
    shown = ok("poll", "show", "1", cwd=town)
    assert "* 2. Roads: 3 (3 ballots)" in shown
    rows = ok("poll", "export", "1", cwd=town).splitlines()
    assert rows[0] == "dimension,group,ballots,option,label,cost,votes,score,selected"
    assert rows[1:4] == [
        "all,all,3,1,Kindergarten,400000,1,1,1",
        "all,all,3,2,Roads,457000,3,3,1",
        "all,all,3,3,Lighting,467500,1,1,0",
    ]
    # three voters: a group too small to show (SMALL_GROUP_MIN=5)
    assert "village,Ak-Chiy,3,,,,,," in rows
    assert not any(row.startswith(("village,", "gender,", "age_group,")) and "Roads" in row
                   for row in rows)  # fmt: skip
    pb = town / "poll1.pb"
    ok("poll", "export", "1", "--format", "pb", "--output", str(pb), cwd=town)
    tally = json.loads(ok("pb", "tally", str(pb), cwd=town))
    assert tally["selected"] == ["2", "1"]
    with sqlite3.connect(town / "civic-bot.db") as conn:
        assert "+996" not in pb.read_text(encoding="utf-8")
        sealed = conn.execute("SELECT COUNT(ballot) FROM turnout").fetchone()[0]
        boxed = conn.execute("SELECT COUNT(*) FROM box_ballots").fetchone()[0]
        assert (sealed, boxed) == (2, 1)  # two by phone, one on paper


def test_paper_ballot_csv_is_all_or_nothing(town: Path) -> None:
    create_poll(town)
    bad = town / "paper.csv"
    bad.write_text(
        "phone,choices\n0700000010,1\n0700000011,1 2 3\n0700999999,1\n0700000010,2\n",
        encoding="utf-8",
    )
    result = run_cli("poll", "import-ballots", "1", str(bad), cwd=town)
    assert result.returncode == 2
    assert result.stderr.splitlines()[:3] == [
        f"{bad}: line 3: invalid ballot (too_many)",
        f"{bad}: line 4: +996700999999 is not in the register",
        f"{bad}: line 5: +996700000010 already on line 2",
    ]
    with sqlite3.connect(town / "civic-bot.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM turnout").fetchone() == (0,)
    good = town / "good.csv"
    good.write_text("phone,choices\n0700000010,1\n0700000011,1 2\n", encoding="utf-8")
    assert ok("poll", "import-ballots", "1", str(good), cwd=town) == (
        "poll 1: 2 paper ballot(s) counted\n"
    )


def test_paper_voters_are_marked_and_their_ballots_boxed_apart(town: Path) -> None:
    """As at a polling station: the clerk marks who voted on paper; the box is counted
    later, its ballots linked to nobody, never more than the voters marked."""
    create_poll(town)
    voters = town / "voters.csv"
    voters.write_text("phone\n0700000010\n0700000011\n", encoding="utf-8")
    assert ok("poll", "import-ballots", "1", str(voters), cwd=town) == (
        "poll 1: 2 paper voter(s) marked\n"
    )
    box = town / "box.csv"
    box.write_text("choices\n1\n2\n1 3\n", encoding="utf-8")
    full = run_cli("poll", "import-ballots", "1", str(box), "--village", "Kachybek", cwd=town)
    assert full.returncode == 2
    assert full.stderr.strip() == (
        "civic-bot: the box may take 2 more ballot(s): no more than the paper voters marked"
        " without one"
    )
    box.write_text("choices\n1\n1 3\n", encoding="utf-8")
    assert ok("poll", "import-ballots", "1", str(box), "--village", "Kachybek", cwd=town) == (
        "poll 1: 2 paper ballot(s) counted\n"
    )
    assert run_cli("poll", "ballot", "1", "--choices", "2", cwd=town).returncode == 2
    assert ok("poll", "ballot", "1", "--phone", "0700000012", cwd=town) == (
        "poll 1: marked as voted on paper\n"
    )
    assert ok("poll", "ballot", "1", "--choices", "2", cwd=town) == (
        "poll 1: paper ballot put in the box\n"
    )
    again = run_cli("poll", "ballot", "1", "--phone", "0700000012", cwd=town)
    assert again.stderr.strip() == "civic-bot: ballot refused: voted_on_paper"
    replies = ok("demo", "--as", "+996700000010", cwd=town, stdin="LANG EN\nVOTED\nV 1\n")
    assert "You voted in poll 1 on paper." in replies
    assert "You already voted on a paper ballot." in replies
    with sqlite3.connect(town / "civic-bot.db") as conn:
        assert conn.execute(
            "SELECT COUNT(*), COUNT(ballot) FROM turnout WHERE channel = 'paper'"
        ).fetchone() == (3, 0)
        assert conn.execute("SELECT COUNT(*) FROM box_ballots").fetchone() == (3,)


@pytest.mark.parametrize("name", ["Poland_Swiecie_2023.pb", "Poland_Krakow_2020_Zwierzyniec.pb"])
def test_a_pabulib_file_imported_as_a_poll_counts_the_same(town: Path, name: str) -> None:
    source = PABULIB / name
    if not source.exists():
        pytest.skip(f"{source} is not there (a clone without shared/)")
    expected = json.loads(ok("pb", "tally", str(source), cwd=town))["selected"]
    imported = ok(
        "poll",
        "import-pb",
        str(source),
        "--opens",
        "2026-01-01 00:00",
        "--closes",
        "2026-01-02 00:00",
        cwd=town,
    )
    assert imported.startswith("poll 1 imported with ")
    exported = town / "again.pb"
    ok("poll", "export", "1", "--format", "pb", "--output", str(exported), cwd=town)
    again = json.loads(ok("pb", "tally", str(exported), cwd=town))
    # options are numbered 1.. in the file's project order
    projects = [
        line.split(";")[0]
        for line in source.read_text(encoding="utf-8")
        .split("PROJECTS\n", 1)[1]
        .split("VOTES\n", 1)[0]
        .splitlines()[1:]
    ]
    assert [projects[int(n) - 1] for n in again["selected"]] == expected


def test_a_pabulib_threshold_comes_into_the_poll_and_goes_out_again(town: Path) -> None:
    source = PABULIB.parent / "pabulib-corpus" / "Poland_Lodz_2020_Nr_33.pb"
    if not source.exists():
        pytest.skip(f"{source} is not there (a clone without shared/)")
    expected = json.loads(ok("pb", "tally", str(source), cwd=town))["selected"]
    window = ("--opens", "2026-01-01 00:00", "--closes", "2026-01-02 00:00")
    ok("poll", "import-pb", str(source), *window, cwd=town)
    with sqlite3.connect(town / "civic-bot.db") as conn:
        assert conn.execute("SELECT rule, threshold FROM polls").fetchone() == ("greedy", 50)
    exported = town / "again.pb"
    ok("poll", "export", "1", "--format", "pb", "--output", str(exported), cwd=town)
    assert "\nmin_project_score_threshold;50\n" in exported.read_text(encoding="utf-8")
    again = json.loads(ok("pb", "tally", str(exported), cwd=town))["selected"]
    ids = [p.id for p in read_pb(source).projects]  # options are numbered in this order
    assert sorted(ids[int(n) - 1] for n in again) == sorted(expected)


def test_import_pb_refuses_scoring_ballots_and_takes_the_whole_part_of_a_budget(
    town: Path,
) -> None:
    scoring = town / "scoring.pb"
    scoring.write_text(
        "META\nkey;value\nbudget;100.75\nvote_type;scoring\nrule;greedy\n"
        "PROJECTS\nproject_id;cost\na;60\nb;40\nVOTES\nvoter_id;vote;points\n1;a,b;3,1\n",
        encoding="utf-8",
    )
    window = ("--opens", "2026-01-01 00:00", "--closes", "2026-01-02 00:00")
    refused = run_cli("poll", "import-pb", str(scoring), *window, cwd=town)
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(
        "scoring ballots cannot be a poll (polls are choose-1, approval, ordinal, cumulative)"
    )
    with sqlite3.connect(town / "civic-bot.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM polls").fetchone() == (0,)
    decimal = town / "decimal.pb"
    decimal.write_text(
        scoring.read_text(encoding="utf-8").replace("scoring", "cumulative"), encoding="utf-8"
    )
    assert ok("poll", "import-pb", str(decimal), *window, cwd=town).startswith("poll 1 ")
    with sqlite3.connect(town / "civic-bot.db") as conn:
        assert conn.execute("SELECT budget FROM polls").fetchone() == (100,)


def test_poll_create_stores_how_the_poll_counts(town: Path) -> None:
    refused = run_cli("poll", "create", "--title", "x", "--type", "approval", "--closes",
                      "2099-01-01 18:00", "--completion", "add2", cwd=town)  # fmt: skip
    assert refused.returncode == 2
    assert "--completion: invalid choice: 'add2'" in refused.stderr
    extra = ("--completion", "add1u", "--satisfaction", "cardinality", "--threshold", "3")
    assert create_poll(town, *extra).startswith("poll 1 created")
    with sqlite3.connect(town / "civic-bot.db") as conn:
        row = conn.execute("SELECT rule, completion, satisfaction, threshold FROM polls")
        assert row.fetchone() == ("greedy", "add1u", "cardinality", 3)


def test_problem_moderation(town: Path) -> None:
    ok("demo", "--as", "+996700000001", cwd=town, stdin="PROPOSE Broken bridge\n")
    ok("demo", "--as", "+996700000003", cwd=town, stdin="PROPOSE The bridge is broken\n")
    ok("demo", "--as", "+996700000005", cwd=town, stdin="PROPOSE Stray dogs\n")
    # the demo holds the six 2012 priorities as problems 1-6
    assert ok("problem", "list", cwd=town).splitlines() == [
        "7\t1\tBroken bridge",
        "8\t1\tThe bridge is broken",
        "9\t1\tStray dogs",
    ]
    ok("problem", "merge", "8", "7", cwd=town)
    ok("problem", "approve", "7", cwd=town)
    assert ok("problem", "reject", "9", "--reason", "not a budget matter", cwd=town) == (
        "problem 9: rejected; 1 proposer(s) will be told\n"
    )
    approved = ok("problem", "list", "--status", "approved", cwd=town).splitlines()
    assert approved[-1] == "7\t2\tBroken bridge"
    again = run_cli("problem", "approve", "9", cwd=town)
    assert again.stderr.strip() == "civic-bot: problem 9 is already rejected"
    assert create_poll(town, "--problem", "7=300000").startswith("poll 1 created")
    assert (
        ok("demo", cwd=town, stdin="LANG EN\nPOLLS\n")
        .splitlines()[-1]
        .startswith("№1 Priorities 2027: 1) Kindergarten 2) Roads 3) Lighting 4) Broken bridge")
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--closes", "2000-01-01 00:00"], "the poll must close after it opens"),
        (
            ["--opens", "1999-01-01 00:00", "--closes", "2000-01-01 00:00"],
            "the poll would close in the past",
        ),
        (["--closes", "2099-01-01 00:00", "--type", "approval"], "need --max"),
        (["--closes", "tomorrow"], "not a date and time: 'tomorrow'"),
    ],
)
def test_bad_poll_definitions_are_refused(town: Path, args: list[str], reason: str) -> None:
    result = run_cli(
        "poll",
        "create",
        "--title",
        "T",
        "--type",
        "choose1",
        "--option",
        "A",
        "--option",
        "B",
        *args,
        cwd=town,
    )
    assert result.returncode == 2
    assert reason in result.stderr


def test_a_budget_poll_counts_by_its_greedy_variant_and_tie_chain(town: Path) -> None:
    """Roads has 3 votes; Kindergarten (400,000) and Lighting (467,500) tie on 1 with
    443,000 som left: the chain says which comes first, the variant what a misfit does."""
    cases = [
        ("greedy", "cost,id", {"Roads", "Kindergarten"}),
        ("greedy-no-skip", "cost", {"Roads", "Kindergarten"}),
        ("greedy-no-skip", "-cost", {"Roads"}),  # Lighting does not fit: the count stops
        ("greedy-custom", "-cost,id", {"Roads", "Lighting"}),  # 443,000 covers 80 % of it
        ("greedy", "-cost", {"Roads", "Kindergarten"}),  # Lighting passed over
    ]
    ballots = town / "paper.csv"
    ballots.write_text("phone,choices\n0700000010,2\n0700000011,1 2\n0700000012,2 3\n",
                       encoding="utf-8")  # fmt: skip
    for n, (rule, ties, _) in enumerate(cases, start=1):
        assert create_poll(town, "--rule", rule, f"--ties={ties}").startswith(f"poll {n} created")
        ok("poll", "import-ballots", str(n), str(ballots), cwd=town)
    with sqlite3.connect(town / "civic-bot.db") as conn:  # time passes: the polls close
        conn.execute("UPDATE polls SET opens_at = '2020-01-01', closes_at = '2020-01-02'")
    for n, (rule, ties, funded) in enumerate(cases, start=1):
        shown = ok("poll", "show", str(n), cwd=town).splitlines()
        chain = ties.replace(",", ", ")
        assert shown[2].startswith(f"counted by {rule}, ties: {chain}; spent "), shown
        assert {line.split(". ")[1].split(":")[0] for line in shown if line[0] == "*"} == funded
    assert "spent 924500 of 900000 som" in ok("poll", "show", "4", cwd=town)


def test_poll_create_refuses_an_unknown_tie_key_and_stores_nothing(town: Path) -> None:
    for ties in ("cheapest", "cost,cost", ""):
        refused = run_cli("poll", "create", "--title", "x", "--type", "approval", "--closes",
                          "2099-01-01 18:00", f"--ties={ties}", cwd=town)  # fmt: skip
        assert refused.returncode == 2
        assert f"--ties: {ties!r}: expected keys among order, cost, -cost" in refused.stderr
    with sqlite3.connect(town / "civic-bot.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM polls").fetchone() == (0,)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Poland_Gdynia_2024_Babie_Doly__small.pb", "greedy-no-skip"),
        (
            "Poland_Poznan_2026_4_-_Gluszyna_Krzesiny-Pokrzywno-Garaszewo_Staroleka-Minikowo_"
            "Szczepankowo-Splawie-Krzesinki__large.pb",
            "greedy-custom",
        ),
    ],
)
def test_an_imported_election_counts_as_the_city_did_with_its_rule_and_ties(
    town: Path, name: str, rule: str
) -> None:
    """Files where pabutools' skipping greedy funds other projects than the city did."""
    source = PABULIB.parent / "pabulib-corpus" / name
    if not source.exists():
        pytest.skip(f"{source} is not there (a clone without shared/)")
    expected = json.loads(ok("pb", "tally", str(source), cwd=town))["selected"]
    window = ("--opens", "2026-01-01 00:00", "--closes", "2026-01-02 00:00")
    ok("poll", "import-pb", str(source), *window, cwd=town)
    shown = ok("poll", "show", "1", cwd=town).splitlines()
    assert shown[2].startswith(f"counted by {rule}, ") and ", ties: order; spent " in shown[2]
    ids = [p.id for p in read_pb(source).projects]  # options are numbered in this order
    funded = [int(line[2:].split(".")[0]) for line in shown if line.startswith("* ")]
    assert sorted(ids[n - 1] for n in funded) == sorted(expected)
    exported = town / "again.pb"
    ok("poll", "export", "1", "--format", "pb", "--output", str(exported), cwd=town)
    assert f"\nrule;{rule}\n" in exported.read_text(encoding="utf-8")


def test_poll_create_takes_the_title_and_options_in_three_languages(town: Path) -> None:
    (town / "options.csv").write_text(
        "label_ky,label_ru,label_en,cost\nКөчө жарыгы,Освещение,Lighting,467500\n",
        encoding="utf-8",
    )
    created = ok(
        "poll", "create", "--title-ky", "Артыкчылыктар", "--title-ru", "Приоритеты",
        "--title-en", "Priorities", "--type", "choose1",
        "--option-ky", "Бала бакча=400000", "--option-ru", "Детсад", "--option-en", "Kindergarten",
        "--option-ky", "Жолдор", "--option-ru", "Дороги=457000", "--option-en", "Roads",
        "--options-csv", "options.csv", "--closes", "2099-01-01 18:00", cwd=town,
    )  # fmt: skip
    assert created.startswith("poll 1 created")
    with sqlite3.connect(town / "civic-bot.db") as conn:
        poll = conn.execute("SELECT title, title_ky, title_ru, title_en FROM polls").fetchone()
        options = conn.execute(
            "SELECT position, label, label_ky, label_ru, label_en, cost FROM poll_options"
            " ORDER BY position"
        ).fetchall()
    assert poll == ("Артыкчылыктар", "Артыкчылыктар", "Приоритеты", "Priorities")
    assert options == [
        (1, "Бала бакча", "Бала бакча", "Детсад", "Kindergarten", 400000),
        (2, "Жолдор", "Жолдор", "Дороги", "Roads", 457000),
        (3, "Көчө жарыгы", "Көчө жарыгы", "Освещение", "Lighting", 467500),
    ]
    replies = ok("demo", "--as", "+996700000003", cwd=town, stdin="LANG RU\nPOLLS\n")
    assert "№1 Приоритеты: 1) Детсад 2) Дороги 3) Освещение" in replies


def test_poll_create_refuses_options_that_do_not_pair_and_stores_nothing(town: Path) -> None:
    (town / "bad.csv").write_text("label_ru,cost\nДороги,много\n", encoding="utf-8")
    for extra in (
        (
            "--option-ky",
            "Жолдор=1",
            "--option-ru",
            "Дороги=2",
            "--option-ky",
            "Б",
            "--option-ru",
            "В",
        ),
        ("--option-ky", "Жолдор", "--option-ru", "Дороги", "--option-ru", "Свет"),
        ("--option", "A", "--options-csv", "bad.csv"),
    ):
        refused = run_cli("poll", "create", "--title", "x", "--type", "choose1", "--closes",
                          "2099-01-01 18:00", *extra, cwd=town)  # fmt: skip
        assert refused.returncode != 0 and refused.stderr.startswith(("civic-bot:", "bad.csv"))
    with sqlite3.connect(town / "civic-bot.db") as conn:
        assert conn.execute("SELECT count(*) FROM polls").fetchone() == (0,)
