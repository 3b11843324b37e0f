"""The text-command parser shared by SMS and the console.

A command is a keyword in Kyrgyz, Russian or English, any case, with or without a
leading slash, followed by arguments. Feature phones and mixed keyboards produce
look-alike letters (Latin ``C`` for Cyrillic ``С``, ``о`` for ``ө``), so keywords are
compared by their *skeleton*: upper case with look-alikes folded to one letter.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

#: longer messages are refused politely (Twilio's own limit for one message body)
MAX_MESSAGE_LENGTH = 1600

#: command name -> language -> keywords. HELP is generated from this table.
KEYWORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "help": {"ky": ("ЖАРДАМ",), "ru": ("ПОМОЩЬ", "СПРАВКА"), "en": ("HELP", "?")},
    "lang": {"ky": ("ТИЛ",), "ru": ("ЯЗЫК",), "en": ("LANG", "LANGUAGE")},
    "me": {"ky": ("МЕН",), "ru": ("Я",), "en": ("ME",)},
    "stop": {"ky": ("ТОКТОТ",), "ru": ("СТОП",), "en": ("STOP",)},
    "start": {"ky": ("БАШТА",), "ru": ("СТАРТ",), "en": ("START",)},
    "broadcast": {"ky": ("ЖАРЫЯ",), "ru": ("РАССЫЛКА",), "en": ("BROADCAST",)},
    "propose": {"ky": ("СУНУШ",), "ru": ("ПРЕДЛОЖИТЬ", "ПРЕДЛОЖЕНИЕ"), "en": ("PROPOSE",)},
    "problems": {"ky": ("КӨЙГӨЙЛӨР",), "ru": ("ПРОБЛЕМЫ",), "en": ("PROBLEMS",)},
    "polls": {"ky": ("ДОБУШТАР",), "ru": ("ОПРОСЫ",), "en": ("POLLS", "POLL")},
    "vote": {"ky": ("ДОБУШ", "Д"), "ru": ("ГОЛОС", "Г"), "en": ("V", "VOTE")},
    "voted": {"ky": ("ДОБУШУМ",), "ru": ("ЧЕК", "МОЙГОЛОС"), "en": ("VOTED",)},
    "hearings": {"ky": ("УГУУЛАР",), "ru": ("СЛУШАНИЯ",), "en": ("HEARINGS",)},
    "yes": {"ky": ("ИЙЕ", "ООБА"), "ru": ("ДА",), "en": ("YES",)},
    "no": {"ky": ("ЖОК",), "ru": ("НЕТ",), "en": ("NO",)},
    "maybe": {"ky": ("БАЛКИМ",), "ru": ("ВОЗМОЖНО", "МОЖЕТ"), "en": ("MAYBE",)},
    "budget": {"ky": ("БЮДЖЕТ",), "ru": ("БЮДЖЕТ",), "en": ("BUDGET",)},
    "project": {"ky": ("ДОЛБООР",), "ru": ("ПРОЕКТ",), "en": ("PROJECT",)},
    "join": {"ky": ("КОШУЛУУ",), "ru": ("ВСТУПИТЬ",), "en": ("JOIN",)},
    "act": {"ky": ("АКТ",), "ru": ("АКТ",), "en": ("ACT",)},
    "acts": {"ky": ("АКТТАР",), "ru": ("АКТЫ",), "en": ("ACTS",)},
    "rate": {"ky": ("БАА",), "ru": ("ОЦЕНКА",), "en": ("R", "RATE")},
    # only with a number: "H12 YES" answers hearing 12
    "hearing": {"ky": ("У",), "ru": ("С",), "en": ("H",)},
}

#: the answers to a hearing invitation
RSVP_ANSWERS = ("yes", "no", "maybe")

#: commands whose keyword may carry a number: ``V12 1 4`` is ``V #12 1 4``, ``VOTED12``
NUMBERED = {"vote", "voted", "hearing"}
_NUMBERED_HEAD = re.compile(r"^(\D+?)(\d+)$")

#: words for the kinds of monitoring act (``ACT 3 PURCHASE ...``)
ACT_KINDS: dict[str, tuple[str, ...]] = {
    "tender": ("TENDER", "ТЕНДЕР"),
    "purchase": ("PURCHASE", "ЗАКУПКА", "САТЫП"),
    "handover": ("HANDOVER", "ПЕРЕДАЧА", "ӨТКӨРҮҮ"),
    "use": ("USE", "ИСПОЛЬЗОВАНИЕ", "КОЛДОНУУ"),
}

#: words that name a language, for ``LANG <x>``
LANGUAGE_WORDS: dict[str, tuple[str, ...]] = {
    "ky": ("KY", "KG", "КЫ", "КГ", "KYRGYZ", "КЫРГЫЗ", "КЫРГЫЗЧА", "КИРГИЗСКИЙ", "КЫРГЫЗСКИЙ"),
    "ru": ("RU", "РУ", "RUSSIAN", "РУССКИЙ", "ОРУСЧА"),
    "en": ("EN", "ЕН", "ENGLISH", "АНГЛИЙСКИЙ", "АНГЛИСЧЕ"),
}

# Cyrillic letters that look like (or are typed for) Latin ones, and Kyrgyz letters
# that feature phones often lack, folded to one form.
_FOLD = str.maketrans(
    {
        "А": "A",
        "В": "B",
        "Е": "E",
        "Ё": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "У": "Y",
        "Х": "X",
        "І": "I",
        "Ј": "J",
        "Ѕ": "S",
        "Ө": "O",
        "Ү": "Y",
        "Ң": "H",
    }
)
_TRAILING_PUNCTUATION = ".!,;:"
# zero-width marks, and control characters that are not whitespace (NUL cannot even be
# stored in a PostgreSQL text column, nor sent in TwiML)
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f\u200b-\u200f\u2060\ufeff]")


def skeleton(word: str) -> str:
    """The form in which keywords are compared (look-alikes folded, upper case)."""
    return unicodedata.normalize("NFC", word).upper().translate(_FOLD)


def _index(table: dict[str, dict[str, tuple[str, ...]]]) -> dict[str, tuple[str, str]]:
    index: dict[str, tuple[str, str]] = {}
    for name, by_language in table.items():
        for language, words in by_language.items():
            for word in words:
                key = skeleton(word)
                if key in index and index[key][0] != name:
                    raise ValueError(f"keyword {word!r} is ambiguous")
                index.setdefault(key, (name, language))
    return index


_COMMANDS = _index(KEYWORDS)
_LANGUAGES = _index({code: {code: words} for code, words in LANGUAGE_WORDS.items()})
_ACT_KINDS = _index({kind: {"any": words} for kind, words in ACT_KINDS.items()})


@dataclass(frozen=True)
class Parsed:
    """A parsed message. ``name`` is None for unknown input; ``problem`` says why."""

    name: str | None
    args: str = ""
    #: the language the keyword was written in (None for "?" or unknown input)
    language: str | None = None
    problem: str | None = None  # "empty" | "too_long" | "unknown"


#: texts up to this long are parsed once and remembered (in Telegram each feature router
#: reads the same message; residents send the same few commands)
_REMEMBERED_LENGTH = 160


def parse(text: str) -> Parsed:
    return _parse_remembered(text) if len(text) <= _REMEMBERED_LENGTH else _parse(text)


def _parse(text: str) -> Parsed:
    cleaned = _INVISIBLE.sub("", text).strip()
    if not cleaned:
        return Parsed(None, problem="empty")
    if len(cleaned) > MAX_MESSAGE_LENGTH:
        return Parsed(None, problem="too_long")
    head, _, rest = _split_head(cleaned)
    word = head.lstrip("/").split("@", 1)[0].rstrip(_TRAILING_PUNCTUATION) or head
    found = _COMMANDS.get(skeleton(word))
    if found is None and (numbered := _NUMBERED_HEAD.match(word)):
        found = _COMMANDS.get(skeleton(numbered[1]))
        if found is not None and found[0] in NUMBERED:
            rest = f"#{numbered[2]} {rest}"
        else:
            found = None
    if found is None:
        return Parsed(None, problem="unknown")
    name, language = found
    return Parsed(name, rest.strip(), None if word == "?" else language)


_parse_remembered = functools.lru_cache(maxsize=1024)(_parse)


def _split_head(text: str) -> tuple[str, str, str]:
    parts = text.split(None, 1)
    return parts[0], " ", parts[1] if len(parts) > 1 else ""


def parse_answer(word: str) -> str | None:
    """``ДА``, ``ийе``, ``yes`` → ``yes`` (likewise no and maybe); else None."""
    found = _COMMANDS.get(skeleton(word.strip().rstrip(_TRAILING_PUNCTUATION)))
    return found[0] if found and found[0] in RSVP_ANSWERS else None


def parse_act_kind(word: str) -> str | None:
    """``закупка``, ``PURCHASE``, ``сатып`` → ``purchase``; else None."""
    found = _ACT_KINDS.get(skeleton(word.strip().rstrip(_TRAILING_PUNCTUATION)))
    return None if found is None else found[0]


def parse_language(word: str) -> str | None:
    """``RU``, ``ру``, ``Русский``, ``orusca``-style look-alikes → ``ru``; else None."""
    found = _LANGUAGES.get(skeleton(word.strip().rstrip(_TRAILING_PUNCTUATION)))
    return None if found is None else found[0]
