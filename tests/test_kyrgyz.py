"""Kyrgyz suffixes after numbers and names: harmony and assimilation of the spoken word.

The oracle is a table of the words a number ends with when read aloud (0-9, the tens,
hundred, thousand), written out by hand; every number from 0 to 1,000 must take the
suffixes of the word it ends with.
"""

from __future__ import annotations

import pytest

from bot.core.rendering.kyrgyz import inflected, suffix
from bot.core.rendering.templates import Renderer

#: spoken word → (dative, ablative, locative, genitive) suffixes
SPOKEN = {
    "нөл": ("гө", "дөн", "дө", "дүн"),
    "бир": ("ге", "ден", "де", "дин"),
    "эки": ("ге", "ден", "де", "нин"),
    "үч": ("кө", "төн", "тө", "түн"),
    "төрт": ("кө", "төн", "тө", "түн"),
    "беш": ("ке", "тен", "те", "тин"),
    "алты": ("га", "дан", "да", "нын"),
    "жети": ("ге", "ден", "де", "нин"),
    "сегиз": ("ге", "ден", "де", "дин"),
    "тогуз": ("га", "дан", "да", "дун"),
    "он": ("го", "дон", "до", "дун"),
    "жыйырма": ("га", "дан", "да", "нын"),
    "отуз": ("га", "дан", "да", "дун"),
    "кырк": ("ка", "тан", "та", "тын"),
    "элүү": ("гө", "дөн", "дө", "нүн"),
    "алтымыш": ("ка", "тан", "та", "тын"),
    "жетимиш": ("ке", "тен", "те", "тин"),
    "сексен": ("ге", "ден", "де", "дин"),
    "токсон": ("го", "дон", "до", "дун"),
    "жүз": ("гө", "дөн", "дө", "дүн"),
    "миң": ("ге", "ден", "де", "дин"),
}
ONES = ("нөл", "бир", "эки", "үч", "төрт", "беш", "алты", "жети", "сегиз", "тогуз")
TENS = ("", "он", "жыйырма", "отуз", "кырк", "элүү", "алтымыш", "жетимиш", "сексен", "токсон")
CASES = ("dative", "ablative", "locative", "genitive")


def last_spoken_word(n: int) -> str:
    """The word a number ends with when read aloud in Kyrgyz."""
    if n == 0:
        return "нөл"
    if n % 1000 == 0:
        return "миң"
    if n % 100 == 0:
        return "жүз"
    if n % 10 == 0:
        return TENS[n % 100 // 10]
    return ONES[n % 10]


@pytest.mark.parametrize("n", range(1001))
def test_every_number_to_a_thousand_takes_the_suffixes_of_its_last_spoken_word(n: int) -> None:
    expected = SPOKEN[last_spoken_word(n)]
    assert tuple(suffix(n, case) for case in CASES) == expected


def test_the_examples_residents_read() -> None:
    assert f"{inflected(1, 'ablative')} {inflected(4, 'dative')} чейин" == "1ден 4кө чейин"
    assert inflected(3, "dative") == "3кө"
    assert inflected(5, "dative") == "5ке"
    assert inflected(40, "ablative") == "40тан"


@pytest.mark.parametrize(
    ("village", "dative", "locative"),
    [
        ("Ак-Чий", "Ак-Чийге", "Ак-Чийде"),
        ("Качыбек", "Качыбекке", "Качыбекте"),
        ("Советское", "Советскоеге", "Советскоеде"),
    ],
)
def test_the_villages(village: str, dative: str, locative: str) -> None:
    assert inflected(village, "dative") == dative
    assert inflected(village, "locative") == locative


@pytest.mark.parametrize("word", ["Ak-Chiy", "ДОБУШТАР", "медаль", ""])
def test_a_word_it_cannot_read_surely_gets_no_suffix_rather_than_a_wrong_one(word: str) -> None:
    assert inflected(word, "dative") == word


def test_the_template_filter_formats_the_number_and_adds_its_suffix(renderer: Renderer) -> None:
    text = renderer.render("rate_refused", "ky", "sms", code="unknown_service", count=5)
    assert "1ден 5ке чейин" in text
    text = renderer.render("rate_refused", "ky", "sms", code="unknown_service", count=4)
    assert "1ден 4кө чейин" in text


@pytest.mark.parametrize(("count", "expected"), [(4, "1ден 4кө чейин"), (6, "1ден 6га чейин")])
def test_a_vote_for_an_option_not_there_names_the_range_with_its_suffix(
    renderer: Renderer, count: int, expected: str
) -> None:
    for channel in ("sms", "telegram"):
        text = renderer.render(
            "vote_refused", "ky", channel, code="unknown_option", number=9, count=count
        )
        assert expected in text
