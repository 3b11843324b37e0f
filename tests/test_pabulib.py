"""Real pabulib files: the rule each file names reproduces its ``selected`` column, and a
recount of VOTES reproduces its ``votes`` and ``score`` columns; plus the .pb reader and
writer on hand-made and malformed text.

The files live in ``shared/pabulib`` beside the repository (``<repo>/../shared/pabulib``);
these tests fail rather than skip when it is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.counting import (
    Ballot,
    Election,
    PabulibError,
    Project,
    count,
    format_pb,
    parse_pb,
    read_pb,
    rule_for_meta,
)

PABULIB = Path(__file__).resolve().parents[2] / "shared" / "pabulib"
FILES = sorted(PABULIB.glob("*.pb"))


def test_the_pabulib_files_are_there() -> None:
    assert len(FILES) >= 5, f"expected the pabulib files in {PABULIB}"


@pytest.fixture(scope="module", params=FILES, ids=lambda p: p.stem)
def real(request: pytest.FixtureRequest) -> Election:
    return read_pb(request.param)


def test_the_rule_in_meta_reproduces_the_selected_column(real: Election) -> None:
    outcome = count(real, rule_for_meta(real.meta["rule"]))
    funded = {p.id for p in real.projects if p.extra["selected"] == "1"}
    assert set(outcome.selected) == funded
    assert len(outcome.selected) == len(funded)
    assert outcome.spent == sum(p.cost for p in real.projects if p.id in funded)
    assert outcome.spent <= real.budget


def test_recounting_votes_reproduces_the_votes_and_score_columns(real: Election) -> None:
    outcome = count(real, "greedy")
    assert outcome.votes == {p.id: int(p.extra["votes"]) for p in real.projects}
    if "score" in real.projects[0].extra:
        assert outcome.score == {p.id: int(p.extra["score"]) for p in real.projects}


def test_all_five_ballot_types_and_rules_are_covered() -> None:
    elections = [read_pb(f) for f in FILES]
    assert {e.vote_type for e in elections} == {"approval", "choose-1", "cumulative", "ordinal"}
    assert {e.meta["rule"] for e in elections} == {"greedy", "greedy-no-skip", "equalshares/add1"}
    assert any("score" in e.projects[0].extra for e in elections)


def test_a_real_file_survives_writing_and_reading_back(real: Election) -> None:
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
        (_replace("budget;100", "budget;lots"), 5, "budget must be a non-negative whole"),
        (_replace("budget;100\n", ""), 7, "META has no 'budget'"),
        (_replace("vote_type;approval", "vote_type;scoring"), 6, "unsupported vote_type"),
        (_replace("num_votes;2", "num_votes;3"), 4, "num_votes is 3 but the file has 2"),
        (_replace("project_id;cost;name", "project_id;price;name"), 9, "no 'cost' column"),
        (_replace("b;50;B", "b;-50;B"), 11, "cost must be a non-negative whole"),
        (_replace("b;50;B", "b;50"), 11, "expected 3 fields, found 2"),
        (_replace("b;50;B", "a;50;B"), 11, "project 'a' listed twice"),
        (_replace('a;60;"A; the first"', 'a;60;"A; the first'), 10, "bad quoting"),
        (_replace("2;b", "2;b,z"), 15, "unknown project 'z'"),
        (_replace("2;b", "2;b,b"), 15, "names a project twice"),
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
