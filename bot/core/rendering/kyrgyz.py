"""Kyrgyz case suffixes after numbers and names: "1ден 4кө чейин", "3кө", "5ке", "Ак-Чийге".

A Kyrgyz suffix agrees with the *spoken* last word: its vowels (harmony: front/back,
rounded/unrounded) and its last sound (assimilation: г/к, д/т, н/д). A number is read
aloud first ("4" is "төрт", so "4кө"; "40" is "кырк", so "40ка"). The rules are those of
the ``kyrgyz`` package (a rule-based inflection engine: vowel harmony and consonant
assimilation, numbers read as Kyrgyz cardinals); this module is the one place the
templates reach it, through the ``ky`` filter::

    {{ count|ky("dative") }}   →  "5ке"
    1{{ 1|ky_suffix("ablative") }} ...

A word the engine cannot read (Latin letters, no vowel) gets no suffix rather than a
wrong one.
"""

from __future__ import annotations

from functools import lru_cache

from kyrgyz import Case, KyrgyzError, inflect_detailed

#: the cases a template may ask for, by their English names
CASES = {case.value: case for case in Case}


@lru_cache(maxsize=4096)
def suffix(word: str | int, case: str) -> str:
    """The suffix of ``case`` ("dative", "ablative", "locative", "genitive", "accusative")
    after ``word`` (a number or a Kyrgyz name); "" if it cannot be chosen without guessing."""
    try:
        result = inflect_detailed(str(word), case=CASES[case], strict=True)
    except KyrgyzError:
        return ""
    return result.suffix


def inflected(word: str | int, case: str, shown: str | None = None) -> str:
    """``shown`` (default: ``word`` as it is) followed by the suffix of ``case``:
    ``inflected(5, "dative")`` is "5ке"; ``inflected(1000, "dative", "1 000")`` "1 000ге"."""
    return f"{word if shown is None else shown}{suffix(word, case)}"
