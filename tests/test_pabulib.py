"""Real pabulib files: the rule each file names reproduces its ``selected`` column, and a
recount of VOTES reproduces its ``votes`` and ``score`` columns; plus the .pb reader and
writer on hand-made and malformed text.

The files live in ``shared/pabulib`` and ``shared/pabulib-corpus`` beside the repository
(``<repo>/../shared``): 47 real elections. Tests that need them skip, saying so, in a clone
without ``shared/``.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Callable, Iterable
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

from bot.core.counting import (
    PABULIB_RULES,
    Ballot,
    Election,
    Outcome,
    PabulibError,
    Project,
    count,
    format_pb,
    id_key,
    meta_rule,
    parse_pb,
    read_pb,
    voter_ids,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
FOLDERS = (SHARED / "pabulib", SHARED / "pabulib-corpus")
FILES = sorted(f for folder in FOLDERS for f in folder.glob("*.pb"))
CORPUS = SHARED / "pabulib-corpus"
needs_shared = pytest.mark.skipif(
    not FILES, reason=f"the pabulib files are not in {SHARED} (a clone without shared/)"
)

# Files whose `selected` follows no rule on the file's data (shared/pabulib-corpus/README.md):
# the city did not follow its rule, or the rule is not in the data.
NOT_FOLLOWED = {
    "Poland_Warszawa_2018_Las": "1649 fits above the threshold but was not selected",
    "Poland_Warszawa_2020_Targowek": "the greedy order was not followed; no reason given",
    "Poland_Warszawa_2022_Bemowo": "the exclusion of 153 is only in the comment",
    "Poland_Lodz_2020": "the budget was raised after the vote (comment)",
}


@cache
def load(path: Path) -> Election:
    return read_pb(path)


def _countable(path: Path) -> bool:
    """Whether the file has a selected column and names a rule (read from its text)."""
    text = path.read_text(encoding="utf-8")
    header = text[text.index("PROJECTS") :].split("\n", 2)[1]
    return "selected" in header.split(";") and "\nrule;unknown" not in text


COUNTABLE = [f for f in FILES if _countable(f)]


def funded_by_city(election: Election) -> set[str]:
    """The `selected` column as pabulib's checker reads it: 1, and for Poznan's
    greedy-custom also 2 (the 80 % clause); 3 (reserve money, later) is not the rule's."""
    marks = ("1", "2") if election.meta.get("rule") == "greedy-custom" else ("1",)
    return {p.id for p in election.projects if p.extra["selected"] in marks}


def count_as_meta(election: Election, **options: object) -> Outcome:
    how = meta_rule(election.meta["rule"])
    chosen = {"ties": how.ties, "completion": how.completion, **options}
    return count(election, how.rule, **chosen)  # type: ignore[arg-type]


@needs_shared
def test_both_folders_hold_all_47_files_and_every_rule_and_ballot_type() -> None:
    assert len(FILES) == 47, FILES
    elections = [load(f) for f in FILES]
    assert {e.vote_type for e in elections} == {"approval", "choose-1", "cumulative", "ordinal"}
    assert {e.meta["rule"] for e in elections} == {*PABULIB_RULES, "unknown"}


@needs_shared
@pytest.mark.parametrize("path", COUNTABLE, ids=lambda p: p.stem)
def test_the_rule_in_meta_reproduces_the_selected_column(path: Path) -> None:
    real = load(path)
    outcome = count_as_meta(real)
    funded = funded_by_city(real)
    if path.stem in NOT_FOLLOWED:
        assert set(outcome.selected) != funded, f"now reproduced: {NOT_FOLLOWED[path.stem]}"
        return
    assert set(outcome.selected) == funded
    assert len(outcome.selected) == len(funded)
    assert outcome.spent == sum(p.cost for p in real.projects if p.id in funded)
    if real.meta["rule"] != "greedy-custom":  # Poznan's 80 % clause pays from reserve money
        assert outcome.spent <= real.budget


@needs_shared
def test_the_sweep_covers_every_file_with_a_selected_column_and_a_rule() -> None:
    assert len(COUNTABLE) == 47 - 12 - 2  # 12 without selected, 2 more with rule unknown
    assert set(NOT_FOLLOWED) <= {f.stem for f in COUNTABLE}


@needs_shared
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_recounting_votes_reproduces_the_votes_and_score_columns(path: Path) -> None:
    real = load(path)
    outcome = count(real, "greedy")
    columns = real.projects[0].extra
    assert "votes" in columns or "score" in columns
    if "votes" in columns:
        assert outcome.votes == {p.id: int(p.extra["votes"]) for p in real.projects}
    if "score" in columns:
        assert outcome.score == {p.id: int(p.extra["score"]) for p in real.projects}


@needs_shared
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_merged_reading_counts_the_same(path: Path) -> None:
    real = load(path)
    merged = read_pb(path, merge=True)
    assert merged.voters == len(real.ballots)
    assert len(merged.ballots) <= len(real.ballots)
    assert count(merged, "greedy") == count(real, "greedy")


def corpus(name: str) -> Election:
    path = CORPUS / f"{name}.pb"
    if not path.exists():
        pytest.skip(f"{path} is not there (a clone without shared/)")
    return load(path)


def test_a_threshold_in_meta_leaves_out_a_project_that_fits() -> None:
    nr33 = corpus("Poland_Lodz_2020_Nr_33")
    assert nr33.meta["min_project_score_threshold"] == "50"
    assert "W068NR" not in count_as_meta(nr33).selected
    assert "W068NR" in count_as_meta(nr33, threshold=0).selected
    # exactly at the threshold is funded
    zarzecze = corpus("Poland_Katowice_2022_Zarzecze")
    assert count(zarzecze, "greedy").score["L20/09/IX"] == 50
    assert "L20/09/IX" in count_as_meta(zarzecze).selected
    # under greedy-no-skip too, and a project below it does not stop the count
    orlowo = corpus("Poland_Gdynia_2020_Orlowo__small")
    assert "2" not in count_as_meta(orlowo).selected
    assert "2" in count_as_meta(orlowo, threshold=0).selected


def test_a_withdrawn_placeholder_does_not_stop_a_no_skip_count() -> None:
    wroclaw = corpus("Poland_Wroclaw_2017_Rejon_nr_11_750")
    assert wroclaw.project("150").cost == 999_999_999
    assert count_as_meta(wroclaw).selected == ("425",)


def test_poznan_funds_one_more_project_if_what_is_left_covers_80_percent() -> None:
    grunwald = corpus("Poland_Poznan_2023_5_-_Grunwald_Polnoc_Grunwald_Poludnie_Stary_Grunwald")
    outcome = count_as_meta(grunwald)
    assert outcome.selected[-1] == "V.5"
    assert outcome.spent > grunwald.budget
    assert "V.5" not in count(grunwald, "greedy-no-skip", ties=("order",)).selected
    east = corpus(
        "Poland_Poznan_2026_4_-_Gluszyna_Krzesiny-Pokrzywno-Garaszewo_"
        "Staroleka-Minikowo_Szczepankowo-Splawie-Krzesinki__large"
    )
    outcome = count_as_meta(east)
    assert outcome.selected[-1] == "RD-IV.6"
    assert "RD-IV.7" not in outcome.selected  # it would fit, but the count stops
    assert (
        "RD-IX.5"
        not in count_as_meta(corpus("Poland_Poznan_2025_9_-_Stare_Miasto__large")).selected
    )


def test_ties_follow_the_chain_and_an_irresolute_count_lists_both_outcomes() -> None:
    babie = corpus("Poland_Gdynia_2020_Babie_Doly__small")
    votes = count(babie, "greedy").votes
    assert votes["1"] == votes["5"] == 101
    assert "1" in count_as_meta(babie).selected  # as listed: the city funded 1
    cheaper = count(babie, "greedy-no-skip", ties=("cost", "id"))
    assert "5" in cheaper.selected and "1" not in cheaper.selected
    irresolute = count_as_meta(babie, irresolute=True)
    assert len(irresolute.tied) == 2
    assert {("1" in t, "5" in t) for t in irresolute.tied} == {(True, False), (False, True)}
    assert tuple(sorted(irresolute.selected, key=id_key)) in irresolute.tied


def test_wieliczka_add1_comparison_needs_add1_without_the_exhaustive_stop() -> None:
    wieliczka = corpus("Poland_Wieliczka_2023_Green_Budget")
    funded = funded_by_city(wieliczka)
    assert set(count_as_meta(wieliczka).selected) == funded
    assert set(count(wieliczka, "mes", completion="add1-budget").selected) == funded
    stopping = set(count(wieliczka, "mes", completion="add1").selected)
    assert stopping - funded == {"66", "67"} and funded - stopping == {"46"}


def test_a_decimal_budget_is_exact() -> None:
    krakow = corpus("Poland_Krakow_2024_Lagiewniki-Borek_Falecki")
    assert krakow.budget == Fraction("1607513.56")
    assert count_as_meta(krakow).as_dict()["budget"] == "1607513.56"
    assert count(krakow, "mes").spent <= krakow.budget


def test_real_quirks_are_read_with_a_warning_each() -> None:
    amsterdam = corpus("Netherlands_Amsterdam_604")
    assert len(amsterdam.warnings) == 1
    assert amsterdam.warnings[0].startswith("line 1927: a project named twice")
    grabowka = corpus("Poland_Czestochowa_2020_Grabowka")
    assert grabowka.warnings[0].startswith("line 29: a quote inside a field")
    assert grabowka.project("47").name.startswith("Odkupmy i my - ")
    srodmiescie = corpus("Poland_Warszawa_2026_Srodmiescie_Poludniowe")
    assert srodmiescie.warnings[0].startswith("line 656: a project named twice")
    assert "174,174" in srodmiescie.warnings[0] or "counted each time" in srodmiescie.warnings[0]


def test_borda_gives_a_ranking_of_length_l_l_points_as_pabulib_does() -> None:
    s5r = corpus("Switzerland_Zurich_S5R")
    assert count(s5r, "greedy").score["24"] == 198  # not 202 (k = max_length)
    chicago = corpus("US_Stanford_Dataset_PB_Chicago_35th_Ward_2021_vote_rankings")
    assert count(chicago, "greedy").score["1800"] == 178


@needs_shared
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_real_file_survives_writing_and_reading_back(path: Path) -> None:
    real = load(path)
    assert parse_pb(format_pb(real)) == real


def test_a_hand_made_election_survives_writing_and_reading_back() -> None:
    election = Election(
        projects=(
            Project("p1", 1500, 'Park "Ala-Too"; phase 1', {"category": "green", "votes": "2"}),
            Project("p2", 0, "", {"category": "", "votes": "0"}),
            Project("p10", 700, "Школа / мектеп", {"category": "school", "votes": "1"}),
        ),
        ballots=(
            Ballot("v1", ("p1", "p10"), (7, 3), {"sex": "F"}),
            Ballot("v2", (), (), {"sex": "M"}),
            Ballot("v3", ("p1",), (10,), {"sex": ""}),
        ),
        budget=2000,
        vote_type="cumulative",
        meta={"description": "Ayil aimak; 2026", "rule": "greedy", "max_sum_points": "10"},
    )
    text = format_pb(election)
    assert parse_pb(text) == election
    assert '"Park ""Ala-Too""; phase 1"' in text
    lines = text.splitlines()
    assert lines[:3] == ["META", "key;value", 'description;"Ayil aimak; 2026"']
    assert lines[3:7] == ["num_projects;3", "num_votes;3", "budget;2000", "vote_type;cumulative"]


def test_the_writer_refuses_line_breaks() -> None:
    election = Election((Project("a", 1, "two\nlines"),), (), 1)
    with pytest.raises(ValueError, match="line break"):
        format_pb(election)


GOOD = """META
key;value
num_projects;2
num_votes;2
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
a;60;"A; the first"
b;50;B
VOTES
voter_id;vote
1;a,b
2;b
"""


def test_parse_accepts_crlf_a_bom_blank_lines_and_quoted_fields() -> None:
    text = "\ufeff" + GOOD.replace("\n", "\r\n") + "\r\n\r\n"
    election = parse_pb(text)
    assert election.budget == 100
    assert election.meta == {"rule": "greedy"}
    assert [p.name for p in election.projects] == ["A; the first", "B"]
    assert [b.projects for b in election.ballots] == [("a", "b"), ("b",)]
    assert count(election, "greedy").selected == ("b",)


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("key;value\n" + GOOD, 1, "must start with a META section"),
        (_replace("budget;100", "budget;lots"), 5, "budget must be a non-negative amount"),
        (_replace("budget;100\n", ""), 7, "META has no 'budget'"),
        (_replace("vote_type;approval", "vote_type;ranked"), 6, "unsupported vote_type"),
        (_replace("project_id;cost;name", "project_id;price;name"), 9, "no 'cost' column"),
        (_replace("b;50;B", "b;-50;B"), 11, "cost must be a non-negative whole"),
        (_replace("b;50;B", "b;50"), 11, "expected 3 fields, found 2"),
        (_replace("b;50;B", "a;50;B"), 11, "project 'a' listed twice"),
        (_replace('a;60;"A; the first"', 'a;60;"A; the first'), 10, "bad quoting"),
        (_replace("2;b", "2;b,z"), 15, "unknown project 'z'"),
        (_replace("2;b", "1;b"), 15, "voter '1' listed twice"),
        (_replace("VOTES\nvoter_id;vote\n1;a,b\n2;b\n", ""), 12, "file ends before the VOTES"),
        (_replace('project_id;cost;name\na;60;"A; the first"\nb;50;B\n', ""), 9, "no header"),
        (_replace("VOTES", "META"), 12, "unexpected META section (expected VOTES)"),
        (GOOD + "PROJECTS\n", 16, "unexpected PROJECTS section after VOTES"),
    ],
)
def test_malformed_files_are_reported_with_their_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(PabulibError, match=r"^line ") as caught:
        parse_pb(text)
    assert caught.value.line == line, str(caught.value)
    assert reason in caught.value.reason
    assert "\n" not in str(caught.value)


def test_ballot_checks_that_depend_on_the_vote_type() -> None:
    choose1 = _replace("vote_type;approval", "vote_type;choose-1")
    with pytest.raises(PabulibError, match="line 14: choose-1 vote names 2 projects"):
        parse_pb(choose1)
    ordinal = _replace("vote_type;approval", "vote_type;ordinal\nmax_length;1")
    with pytest.raises(PabulibError, match="line 15: vote ranks 2 projects, max_length is 1"):
        parse_pb(ordinal)
    cumulative = _replace("vote_type;approval", "vote_type;cumulative")
    with pytest.raises(PabulibError, match="line 13: VOTES header has no 'points' column"):
        parse_pb(cumulative)
    cumulative = cumulative.replace("voter_id;vote\n1;a,b", "voter_id;vote;points\n1;a,b;1")
    cumulative = cumulative.replace("\n2;b\n", "\n2;b;3\n")
    with pytest.raises(PabulibError, match="line 14: 2 projects but 1 points"):
        parse_pb(cumulative)


def test_read_pb_reports_bytes_that_are_not_utf8_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.pb"
    path.write_bytes(GOOD.replace("B\n", "B\xff\n").encode("latin-1"))
    with pytest.raises(PabulibError, match="line 11: not valid UTF-8"):
        read_pb(path)


def test_quirks_are_read_as_pabulib_reads_them_with_a_warning_each() -> None:
    text = _replace("num_votes;2", "num_votes;3")
    text = text.replace("1;a,b\n", "1;a,b,a\n").replace("b;50;B", 'b;50;"B" and more')
    election = parse_pb(text)
    assert election.ballots[0].projects == ("a", "b", "a")
    assert election.project("b").name == "B and more"
    assert count(election, "greedy").votes == {"a": 2, "b": 2}  # as the files' votes column
    assert count(election, "mes").selected == ("b",)  # MES approves a once
    assert election.warnings == (
        "line 4: num_votes is 3 but VOTES has 2: 2 counted",
        "line 11: a quote inside a field, read as a lenient CSV reader (and pabutools) "
        "reads it: the quotes dropped, the field kept whole",
        "line 14: a project named twice in one vote: counted each time, as the file's votes "
        "column does (MES and pabutools count it once)",
    )
    assert parse_pb(GOOD).warnings == ()


def test_a_cumulative_vote_with_empty_points_is_an_empty_ballot_with_a_warning() -> None:
    text = _replace("vote_type;approval", "vote_type;cumulative")
    text = text.replace("voter_id;vote\n1;a,b\n2;b\n", "voter_id;vote;points\n1;a,b;3,1\n2;b;\n")
    election = parse_pb(text)
    assert election.ballots[1].projects == ()
    assert election.warnings == (
        "line 15: a vote with an empty points field, read as an empty ballot (as pabutools "
        "reads it)",
    )
    assert count(election, "greedy").score == {"a": 3, "b": 1}


def test_scoring_ballots_are_read_and_ranked_by_points() -> None:
    text = _replace("vote_type;approval", "vote_type;scoring")
    text = text.replace("voter_id;vote\n1;a,b\n2;b\n", "voter_id;vote;points\n1;a,b;5,1\n2;b;2\n")
    election = parse_pb(text)
    assert election.vote_type == "scoring"
    outcome = count(election, "greedy")
    assert outcome.score == {"a": 5, "b": 3}
    assert outcome.selected == ("a",)
    assert parse_pb(format_pb(election)) == election


def test_a_fractional_budget_is_exact_and_written_back() -> None:
    election = parse_pb(_replace("budget;100", "budget;110.5"))
    assert election.budget == Fraction(221, 2)
    assert count(election, "greedy").selected == ("b", "a")  # 110 fits in 110.5
    assert "budget;110.5\n" in format_pb(election)
    assert parse_pb(_replace("budget;100", "budget;400000.0")).budget == 400000


def synthetic(voters: int, ids: Iterable[int] | None = None) -> str:
    """An approval election of ``voters`` voters over 20 projects, 50 distinct ballots (the
    voter ids ``ids``, default: 0, 1, 2, ...)."""
    head = (
        "META\nkey;value\nbudget;1000\nvote_type;approval\nrule;greedy\n"
        "PROJECTS\nproject_id;cost\n" + "".join(f"p{i};{10 + i}\n" for i in range(20))
    )
    rows = "".join(
        f"{i};p{v % 50 % 20},p{(v % 50 // 20 + v % 50 % 20 + 1) % 20}\n"
        for v, i in enumerate(range(voters) if ids is None else ids)
    )
    return head + "VOTES\nvoter_id;vote\n" + rows


def _peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_parsing_takes_linear_time_and_merged_memory_grows_with_distinct_ballots(
    tmp_path: Path,
) -> None:
    """The 500,000-voter case is in bench/tally.py (``--synthetic``); here 10,000 against
    40,000 voters (four times as many, at most eight times as long). Merged, memory does not
    grow with the voters when they are listed in order, as real files list them."""
    small, large = tmp_path / "small.pb", tmp_path / "large.pb"
    small.write_text(synthetic(10_000), encoding="utf-8")
    large.write_text(synthetic(40_000), encoding="utf-8")

    def timed(path: Path) -> float:
        start = time.perf_counter()
        read_pb(path, merge=True)
        return time.perf_counter() - start

    assert min(timed(large) for _ in range(2)) < 8 * min(timed(small) for _ in range(2))
    merged = read_pb(large, merge=True)
    whole = read_pb(large)
    assert len(merged.ballots) <= 50 and merged.voters == 40_000
    assert count(merged, "greedy") == count(whole, "greedy")
    small_peak = _peak(lambda: read_pb(small, merge=True))
    large_peak = _peak(lambda: read_pb(large, merge=True))
    assert large_peak < small_peak * 1.2, (small_peak, large_peak)
    assert large_peak * 20 < _peak(lambda: read_pb(large))


def test_voters_out_of_order_take_a_few_bytes_each_not_a_set_of_their_ids(
    tmp_path: Path,
) -> None:
    shuffled = list(range(40_000))
    random.Random(7).shuffle(shuffled)
    ordered, mixed = tmp_path / "ordered.pb", tmp_path / "shuffled.pb"
    ordered.write_text(synthetic(40_000), encoding="utf-8")
    mixed.write_text(synthetic(40_000, shuffled), encoding="utf-8")
    assert read_pb(mixed, merge=True).voters == 40_000
    # a set of the 40,000 ids took 4.2 MB; their hashes take 8 bytes a slot
    assert _peak(lambda: read_pb(ordered, merge=True)) < 100_000
    assert _peak(lambda: read_pb(mixed, merge=True)) < 40_000 * 24


def _first_repeat(ids: list[str]) -> int | None:
    seen: set[str] = set()
    for i, voter in enumerate(ids):
        if voter in seen:
            return i
        seen.add(voter)
    return None


@pytest.mark.parametrize("colliding", [False, True], ids=["real hashes", "every hash equal"])
def test_a_repeated_voter_is_found_exactly_in_any_order(
    monkeypatch: pytest.MonkeyPatch, colliding: bool
) -> None:
    """Against a set of the ids: the same first repeat (its line), and none invented even when
    different ids share a hash (then the earlier rows are read again)."""
    if colliding:
        monkeypatch.setattr(voter_ids, "_hash", lambda voter: 1 + len(voter) % 3)
    rng = random.Random(3)
    head = GOOD.split("VOTES")[0] + "VOTES\nvoter_id;vote\n"
    first_row = head.count("\n") + 1
    for case in range(300):
        pool = rng.choice([5, 50, 500])
        ids = [rng.choice(["", "v", "0"]) + str(rng.randrange(pool)) for _ in range(30)]
        if case % 3 == 0:  # in order, then not
            ids = sorted(set(ids), key=lambda v: (len(v), v)) + ids[:3]
        text = head + "".join(f"{voter};a\n" for voter in ids)
        repeat = _first_repeat(ids)
        if repeat is None:
            assert parse_pb(text).voters == len(ids)
            continue
        with pytest.raises(PabulibError) as caught:
            parse_pb(text)
        assert caught.value.line == first_row + repeat, (ids, caught.value)
        assert caught.value.reason == f"voter {ids[repeat]!r} listed twice"


def test_read_pb_reads_earlier_voters_again_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "repeat.pb"
    path.write_text(_replace("2;b", '2;b\n"7";a\n3;b\n"v;1";a\n7;b'), encoding="utf-8")
    with pytest.raises(PabulibError, match=r"^line 19: voter '7' listed twice$"):
        read_pb(path, merge=True)
    path.write_text(_replace("2;b", '2;b\n"7";a\n3;b\n"v;1";a\n8;b'), encoding="utf-8")
    assert read_pb(path, merge=True).voters == 6
