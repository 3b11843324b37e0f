"""The text-command parser: three languages, any case, slashes, look-alike letters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.commands import KEYWORDS, MAX_MESSAGE_LENGTH, parse, parse_language, skeleton


@pytest.mark.parametrize(
    ("text", "name", "language", "args"),
    [
        ("HELP", "help", "en", ""),
        ("help", "help", "en", ""),
        ("/help", "help", "en", ""),
        ("?", "help", None, ""),
        ("ЖАРДАМ", "help", "ky", ""),
        ("жардам", "help", "ky", ""),
        ("Помощь!", "help", "ru", ""),
        ("НЕLР", "help", "en", ""),  # Cyrillic Н, Е, Р typed for Latin
        ("LANG RU", "lang", "en", "RU"),
        ("тил ru", "lang", "ky", "ru"),
        ("ЯЗЫК  en ", "lang", "ru", "en"),
        ("me", "me", "en", ""),
        ("Мен", "me", "ky", ""),
        ("MEH", "me", "ky", ""),  # Latin look-alikes of МЕН
        ("stop", "stop", "en", ""),
        ("СТОП", "stop", "ru", ""),
        ("токтот", "stop", "ky", ""),
        ("/start@civic_bot ref-7", "start", "en", "ref-7"),
        ("башта", "start", "ky", ""),
        ("\u200bHELP", "help", "en", ""),
        ("V 1 4 5", "vote", "en", "1 4 5"),
        ("V12 1 4", "vote", "en", "#12 1 4"),
        ("д3 2", "vote", "ky", "#3 2"),
        ("ГОЛОС 4:5 2:3", "vote", "ru", "4:5 2:3"),
        ("СУНУШ Жол начар", "propose", "ky", "Жол начар"),
        ("КОЙГОЙЛОР", "problems", "ky", ""),  # ө typed as о
    ],
)
def test_keywords(text: str, name: str, language: str | None, args: str) -> None:
    parsed = parse(text)
    assert (parsed.name, parsed.language, parsed.args) == (name, language, args)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("x" * (MAX_MESSAGE_LENGTH + 1), "too_long"),
        ("hello there", "unknown"),
        ("ME12", "unknown"),
        ("FOO 1", "unknown"),
        ("/", "unknown"),
    ],
)
def test_bad_input_names_the_problem(text: str, problem: str) -> None:
    parsed = parse(text)
    assert parsed.name is None
    assert parsed.problem == problem


@pytest.mark.parametrize(
    ("word", "language"),
    [
        ("KY", "ky"),
        ("ky", "ky"),
        ("кыргызча", "ky"),
        ("RU", "ru"),
        ("ру", "ru"),
        ("Русский", "ru"),
        ("RU.", "ru"),
        ("en", "en"),
        ("English.", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_language_words(word: str, language: str | None) -> None:
    assert parse_language(word) == language


def test_every_keyword_is_unambiguous_after_folding() -> None:
    owners: dict[str, str] = {}
    for name, by_language in KEYWORDS.items():
        for words in by_language.values():
            for word in words:
                assert owners.setdefault(skeleton(word), name) == name


@given(st.text(max_size=2000))
def test_parse_never_fails_and_always_explains(text: str) -> None:
    parsed = parse(text)
    assert (parsed.name is None) == (parsed.problem is not None)
    if parsed.name:
        assert parsed.name in KEYWORDS
