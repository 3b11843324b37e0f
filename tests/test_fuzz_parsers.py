"""Property tests (hypothesis) of the text-command parser, the ballot reader and ballot
validation: whatever a feature phone sends, they answer or refuse, and never crash.

The look-alike substitutions are generated from the parser's own folding table, so a
letter added to that table is fuzzed without touching this file.
"""

from __future__ import annotations

import re
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.ballot_kinds import BALLOT_TYPES, CHOOSE1
from bot.core.services.ballot_text import BallotSyntaxError, BallotText, parse_ballot_text
from bot.core.services.voting import Refused, validate
from handlers.commands import (
    _FOLD,
    _INVISIBLE,
    _TRAILING_PUNCTUATION,
    ACT_KINDS,
    KEYWORDS,
    LANGUAGE_WORDS,
    MAX_MESSAGE_LENGTH,
    NUMBERED,
    RSVP_ANSWERS,
    parse,
    parse_act_kind,
    parse_answer,
    parse_language,
    skeleton,
)
from storage.models import Poll, PollOption

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PROBLEMS = {"empty", "too_long", "unknown"}
LANGUAGES = {"ky", "ru", "en"}

# ------------------------------------------------------------------------------ strategies

#: skeleton letter -> every letter that folds to it (itself included), from the table
LOOK_ALIKES: dict[str, frozenset[str]] = {
    target: frozenset({target, *(chr(o) for o, t in _FOLD.items() if t == target)})
    for target in set(_FOLD.values())
}

#: every keyword with the (command, language) it names; a word two languages share
#: (БЮДЖЕТ, АКТ) names its command in either
ALL_KEYWORDS = [
    (word, name, language)
    for name, by_language in KEYWORDS.items()
    for language, words in by_language.items()
    for word in words
]
LANGUAGES_OF_SKELETON: dict[tuple[str, str], set[str]] = defaultdict(set)
for _word, _name, _language in ALL_KEYWORDS:
    LANGUAGES_OF_SKELETON[skeleton(_word), _name].add(_language)

#: text that is not a Unicode scalar value cannot arrive in an SMS (nor in UTF-8 at all)
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
#: "nasty" alphabets: control characters, bidi and zero-width marks, Cyrillic, digits
nasty_char = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x1F),
    st.sampled_from("\u202e\u202d\u200b\u200c\u200d\u2060\ufeff\u00a0\u3000\u2028\u0085"),
    st.characters(min_codepoint=0x400, max_codepoint=0x4FF),
    st.sampled_from("#№Pp:=,; ./@?!0123456789٣١２"),
    st.characters(blacklist_categories=("Cs",)),
)
nasty_text = st.text(nasty_char, max_size=60)


@st.composite
def disguised(draw: st.DrawFn, word: str) -> str:
    """``word`` as a feature phone might type it: each letter may be swapped for a
    look-alike from the folding table and may change case."""
    out = []
    for char in word:
        choices = sorted(LOOK_ALIKES.get(skeleton(char), frozenset()) | {char})
        letter = draw(st.sampled_from(choices))
        out.append(draw(st.sampled_from([letter, letter.lower(), letter.upper()])))
    return "".join(out)


@st.composite
def typed_keyword(draw: st.DrawFn, word: str) -> str:
    """A disguised keyword with a leading slash, a zero-width mark, trailing punctuation."""
    text = draw(disguised(word))
    if draw(st.booleans()):
        text = "/" + text
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from("\u200b\u200c\u200d\u2060\ufeff")) + text[at:]
    return text + draw(st.text(st.sampled_from(_TRAILING_PUNCTUATION), max_size=3))


# ------------------------------------------------------------------------------ parse


@FAST
@given(any_text)
def test_parse_never_raises_and_returns_a_command_or_a_problem(text: str) -> None:
    parsed = parse(text)
    if parsed.name is None:
        assert parsed.problem in PROBLEMS
        assert parsed.args == ""
    else:
        assert parsed.name in KEYWORDS
        assert parsed.problem is None
        assert parsed.language is None or parsed.language in LANGUAGES
        assert parsed.args == parsed.args.strip()
        assert not CONTROL.search(parsed.args)


#: control characters that are not whitespace: NUL cannot be stored in PostgreSQL text,
#: none of them can be sent in TwiML (XML); the arguments never carry them on
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")


@FAST
@given(nasty_text)
def test_parse_never_raises_on_control_and_mixed_script_text(text: str) -> None:
    parsed = parse(text)
    assert (parsed.name in KEYWORDS) if parsed.name else (parsed.problem in PROBLEMS)
    assert not CONTROL.search(parsed.args)


@QUICK
@given(
    st.integers(MAX_MESSAGE_LENGTH + 1, 4 * MAX_MESSAGE_LENGTH),
    st.sampled_from(["x", "Ж", "😀", "x "]),
)
def test_long_messages_are_refused_as_too_long(length: int, letter: str) -> None:
    text = "HELP " + letter * length + "."
    assert parse(text).problem == "too_long"


@FAST
@given(st.sampled_from(ALL_KEYWORDS).flatmap(lambda k: st.tuples(st.just(k), typed_keyword(k[0]))))
def test_keywords_survive_case_slash_punctuation_and_look_alikes(
    case: tuple[tuple[str, str, str], str],
) -> None:
    (word, name, _), typed = case
    parsed = parse(typed)
    assert parsed.name == name, (word, typed)
    assert parsed.args == ""
    if word == "?":
        assert parsed.language is None
    else:
        assert parsed.language in LANGUAGES_OF_SKELETON[skeleton(word), name]


@FAST
@given(
    st.sampled_from(ALL_KEYWORDS).flatmap(lambda k: st.tuples(st.just(k), typed_keyword(k[0]))),
    any_text.filter(lambda t: not _INVISIBLE.search(t)),
)
def test_the_arguments_after_a_keyword_are_kept(
    case: tuple[tuple[str, str, str], str], args: str
) -> None:
    (_, name, _), typed = case
    parsed = parse(f"{typed} {args}")
    assert parsed.name == name
    assert parsed.args == args.strip()


@FAST
@given(
    st.sampled_from([k for k in ALL_KEYWORDS if k[1] in NUMBERED and k[0] != "?"]).flatmap(
        lambda k: st.tuples(st.just(k), disguised(k[0]))
    ),
    st.integers(0, 10**12),
    st.text(st.sampled_from("0123456789 :"), max_size=20),
)
def test_numbered_keywords_carry_their_number(
    case: tuple[tuple[str, str, str], str], number: int, rest: str
) -> None:
    (_, name, _), typed = case
    parsed = parse(f"{typed}{number} {rest}")
    assert parsed.name == name
    assert parsed.args == f"#{number} {rest.strip()}".strip()


@FAST
@given(
    st.sampled_from([(w, code) for code, words in LANGUAGE_WORDS.items() for w in words]).flatmap(
        lambda k: st.tuples(st.just(k[1]), disguised(k[0]))
    ),
    st.text(st.sampled_from(_TRAILING_PUNCTUATION), max_size=2),
    st.sampled_from(["", " ", "\t", "\n"]),
)
def test_language_words_survive_case_and_look_alikes(
    case: tuple[str, str], punctuation: str, space: str
) -> None:
    code, typed = case
    assert parse_language(space + typed + punctuation + space) == code


@FAST
@given(
    st.sampled_from([k for k in ALL_KEYWORDS if k[1] in RSVP_ANSWERS]).flatmap(
        lambda k: st.tuples(st.just(k[1]), disguised(k[0]))
    ),
    st.text(st.sampled_from(_TRAILING_PUNCTUATION), max_size=2),
)
def test_answers_survive_case_and_look_alikes(case: tuple[str, str], punctuation: str) -> None:
    answer, typed = case
    assert parse_answer(typed + punctuation) == answer


@FAST
@given(
    st.sampled_from([(w, kind) for kind, words in ACT_KINDS.items() for w in words]).flatmap(
        lambda k: st.tuples(st.just(k[1]), disguised(k[0]))
    ),
)
def test_act_kinds_survive_case_and_look_alikes(case: tuple[str, str]) -> None:
    kind, typed = case
    assert parse_act_kind(typed) == kind


@FAST
@given(nasty_text)
def test_word_parsers_never_raise(text: str) -> None:
    assert parse_language(text) in {None, *LANGUAGE_WORDS}
    assert parse_answer(text) in {None, *RSVP_ANSWERS}
    assert parse_act_kind(text) in {None, *ACT_KINDS}


# ------------------------------------------------------------------------------ ballots


def _check_ballot(ballot: BallotText, *, positive: bool = False) -> None:
    """Entries are ints in the ranges the syntax allows. Zero is syntax, not sense: the
    reader leaves it to :func:`validate` (which answers "there is no option 0: 1 to 4"
    rather than "'0' is not clear"); ``positive`` for ballots typed with positive numbers."""
    low = 1 if positive else 0
    assert isinstance(ballot, BallotText)
    assert ballot.poll_number is None or (
        type(ballot.poll_number) is int and low <= ballot.poll_number < 10**9
    )
    assert ballot.entries, "a ballot names at least one option"
    for number, points in ballot.entries:
        assert type(number) is int and low <= number < 10**4
        assert points is None or (type(points) is int and low <= points < 10**6)


ballot_char = st.one_of(
    st.sampled_from("0123456789 #:=,;Pp№Пп\t\n-+.٣١２"), st.characters(blacklist_categories=("Cs",))
)


@FAST
@given(st.one_of(any_text, st.text(ballot_char, max_size=40)))
def test_parse_ballot_text_returns_entries_or_a_syntax_error(text: str) -> None:
    try:
        ballot = parse_ballot_text(text)
    except BallotSyntaxError as exc:
        assert exc.code in {"empty", "malformed"}
        return
    _check_ballot(ballot)


poll_numbers = st.integers(1, 999_999_999)
options = st.integers(1, 9999)
points = st.integers(1, 999_999)
vote_words = [w for w in KEYWORDS["vote"].values() for w in w]


@st.composite
def typed_ballot(draw: st.DrawFn) -> tuple[str, int | None, tuple[tuple[int, int | None], ...]]:
    """A valid ballot as a voter might type it, with the entries it must read back as."""
    poll = draw(st.none() | poll_numbers)
    cumulative = draw(st.booleans())
    numbers = draw(st.lists(options, min_size=1, max_size=8))
    entries = tuple((n, draw(points) if cumulative else None) for n in numbers)
    keyword = draw(disguised(draw(st.sampled_from(vote_words))))
    if poll is None:
        head = keyword
    else:
        template = draw(st.sampled_from(["{k}{n}", "{k} #{n}", "{k} P{n}", "{k} п{n}", "{k} №{n}"]))
        head = template.format(k=keyword, n=poll)
    parts = []
    for number, weight in entries:
        colon = draw(st.sampled_from(":="))
        parts.append(f"{number}" if weight is None else f"{number}{colon}{weight}")
        parts.append(draw(st.sampled_from([" ", "  ", ",", ", ", ";", " ; ", "\t"])))
    return head + " " + "".join(parts), poll, entries


@FAST
@given(typed_ballot())
def test_a_typed_ballot_reads_back_as_written(
    case: tuple[str, int | None, tuple[tuple[int, int | None], ...]],
) -> None:
    text, poll, entries = case
    parsed = parse(text)
    assert parsed.name == "vote", text
    ballot = parse_ballot_text(parsed.args)
    assert ballot == BallotText(poll, entries)
    _check_ballot(ballot, positive=True)


# ------------------------------------------------------------------------------ validate


@st.composite
def poll_with_options(draw: st.DrawFn) -> tuple[Poll, list[PollOption]]:
    kind = draw(st.sampled_from(BALLOT_TYPES))
    positions = draw(st.lists(st.integers(1, 12), min_size=2, max_size=8, unique=True))
    limit = 1 if kind == CHOOSE1 else draw(st.integers(1, 10))
    if kind in ("approval", "ranked"):
        limit = min(limit, len(positions))
    poll = Poll(
        id=draw(st.integers(1, 10**6)),
        municipality_id=1,
        title="Fuzz",
        ballot_type=kind,
        max_choices=limit,
        village_id=None,
        min_age=18,
        opens_at="2026-01-01T00:00:00+00:00",
        closes_at="2027-01-01T00:00:00+00:00",
        budget=None,
        rule="totals",
        changeable=True,
        results_published=False,
    )
    opts = [
        PollOption(id=1000 + i, poll_id=poll.id, position=p, label=f"Option {p}", problem_id=None,
                   cost=None)
        for i, p in enumerate(positions)
    ]  # fmt: skip
    return poll, opts


entries_strategy = st.lists(
    st.tuples(st.integers(-3, 15), st.none() | st.integers(-3, 15)), max_size=8
).map(tuple)


@settings(max_examples=500, deadline=None)
@given(poll_with_options(), entries_strategy)
def test_validate_refuses_with_vote_refused_only(
    poll_and_options: tuple[Poll, list[PollOption]], entries: tuple[tuple[int, int | None], ...]
) -> None:
    poll, opts = poll_and_options
    try:
        chosen = validate(poll, opts, entries)
    except Refused as exc:
        assert isinstance(exc.code, str) and exc.code
        return
    if not entries:
        return
    by_id = {o.id: o for o in opts}
    assert all(option.id in by_id and weight >= 1 for option, weight in chosen)
    assert len({option.id for option, _ in chosen}) == len(chosen) == len(entries)
    assert [o.position for o, _ in chosen] == [n for n, _ in entries]
    if poll.ballot_type == "choose1":
        assert len(chosen) == 1 and chosen[0][1] == 1
    elif poll.ballot_type == "approval":
        assert len(chosen) <= poll.max_choices and {w for _, w in chosen} == {1}
    elif poll.ballot_type == "ranked":
        assert [w for _, w in chosen] == list(range(1, len(chosen) + 1))
        assert len(chosen) <= poll.max_choices
    else:
        assert sum(w for _, w in chosen) <= poll.max_choices


@FAST
@given(poll_with_options(), st.one_of(any_text, st.text(ballot_char, max_size=40)))
def test_any_text_is_a_valid_ballot_or_a_refusal(
    poll_and_options: tuple[Poll, list[PollOption]], text: str
) -> None:
    """The whole path a text ballot takes before storage: read, then validate."""
    poll, opts = poll_and_options
    try:
        entries = parse_ballot_text(text).entries
        chosen = validate(poll, opts, entries)
    except (BallotSyntaxError, Refused):
        return
    # what gets through names real options with positive weights (never option 0)
    assert all(number > 0 and (p is None or p > 0) for number, p in entries)
    assert all(option in opts and weight > 0 for option, weight in chosen)
