"""Every text exists in ky, ru and en for SMS and Telegram, renders, and fits its channel.
Texts of Telegram's own screens (``tg_*``: forms, ballots, buttons) exist for Telegram only.

Exact output is compared with ``tests/golden/<lang>/<feature>.<channel>.txt``; after
an intended wording change, regenerate them with ``UPDATE_GOLDEN=1 pytest tests/test_templates.py``
and review the diff.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from bot.core.languages import LANGUAGES
from bot.core.rendering.sms import sms_size
from bot.core.rendering.templates import CHANNELS, TEMPLATES_DIR, Renderer, template_names
from storage.models import ResidentCard
from tests.samples import sample

GOLDEN = Path(__file__).with_name("golden")
FEATURES = sorted({feature for _, feature, _ in template_names()})
SMS_FEATURES = [feature for feature in FEATURES if not feature.startswith("tg_")]
ALL = [
    (lang, feature, channel)
    for lang in LANGUAGES
    for feature in FEATURES
    for channel in CHANNELS
    if channel == "telegram" or feature in SMS_FEATURES
]


def test_every_feature_has_every_language_and_channel() -> None:
    assert set(ALL) == template_names()
    assert len(FEATURES) >= 10


@pytest.mark.parametrize(("lang", "feature", "channel"), ALL)
def test_renders_exactly_as_reviewed(
    renderer: Renderer, lang: str, feature: str, channel: str
) -> None:
    text = renderer.render(feature, lang, channel, **sample(feature, lang))
    assert text
    golden = GOLDEN / lang / f"{feature}.{channel}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text + "\n", encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8").removesuffix("\n")


@pytest.mark.parametrize(("lang", "feature"), [(la, f) for la in LANGUAGES for f in SMS_FEATURES])
def test_sms_fits_two_ucs2_segments(renderer: Renderer, lang: str, feature: str) -> None:
    text = renderer.render(feature, lang, "sms", **sample(feature, lang))
    assert sms_size(text).units <= 134, (len(text), text)
    assert "<" not in text  # no HTML in SMS


class _TagChecker(HTMLParser):
    ALLOWED: ClassVar[set[str]] = {
        "b",
        "i",
        "u",
        "s",
        "code",
        "pre",
        "a",
        "tg-spoiler",
        "blockquote",
    }

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        assert tag in self.ALLOWED, f"Telegram does not support <{tag}>"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"


@pytest.mark.parametrize(("lang", "feature"), [(la, f) for la in LANGUAGES for f in FEATURES])
def test_telegram_html_uses_only_supported_balanced_tags(
    renderer: Renderer, lang: str, feature: str
) -> None:
    checker = _TagChecker()
    checker.feed(renderer.render(feature, lang, "telegram", **sample(feature, lang)))
    assert checker.stack == []


def test_telegram_escapes_user_data_and_sms_does_not(renderer: Renderer) -> None:
    card = ResidentCard(
        "<b>Asel & Co</b>", "+996700000001", "Ak-Chiy", "AC-1", "", 3, "en", False, ()
    )
    assert "&lt;b&gt;Asel &amp; Co&lt;/b&gt;" in renderer.render("me", "en", "telegram", card=card)
    assert renderer.render("me", "en", "sms", card=card).startswith("<b>Asel & Co</b>,")


def test_babel_formats_money_and_dates_per_language(renderer: Renderer) -> None:
    from datetime import UTC, datetime

    from jinja2 import Environment

    env: Environment = renderer._envs["sms"]
    moment = datetime(2013, 1, 26, 4, 0, tzinfo=UTC)  # 10:00 in Bishkek
    out = {
        lang: env.from_string(
            "{{ 1802000|som }} | {{ t|date }} | {{ t|time }} | {{ t|datetime }} | {{ iso|date }}"
        ).render(lang=lang, t=moment, iso="2013-01-25T20:30:00.000+00:00")
        for lang in LANGUAGES
    }
    # 20:30 UTC on the 25th is already the 26th in Bishkek
    assert out["ky"] == "1\xa0802\xa0000 сом | 26.01.2013 | 10:00 | 26.01.2013 10:00 | 26.01.2013"
    assert out["ru"] == "1\xa0802\xa0000 сом | 26.01.2013 | 10:00 | 26.01.2013, 10:00 | 26.01.2013"
    assert out["en"] == "1,802,000 som | 26 Jan 2013 | 10:00 | 26 Jan 2013, 10:00 | 26 Jan 2013"


@pytest.mark.parametrize(("lang", "feature", "channel"), ALL)
def test_no_lines_run_together(renderer: Renderer, lang: str, feature: str, channel: str) -> None:
    """Every line of text in a template stays a line of its own: the same lines come out
    as from an environment that removes no newline at all (``trim_blocks`` off), only
    the empty lines left by lines of tags alone differ."""
    env = renderer._envs["telegram" if channel == "telegram" else "sms"]
    keeping = env.overlay(trim_blocks=False)
    # what Renderer.render adds: the width to fit, and for a paged list its page
    data = {"lang": lang, "fit_width": None, "page": 1, "next_page": None,
            **sample(feature, lang)}  # fmt: skip
    name = f"{lang}/{feature}.{channel}.j2"

    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    assert lines(env.get_template(name).render(data)) == lines(
        keeping.get_template(name).render(data)
    )


#: an SMS code (``У6 ИЙЕ``, ``ДОБУШТАР 1``, ``ДОЛБООР N``, ``Д12 1 2``, ``БАА 1 4``)
_SMS_CODE = re.compile(
    r"\b[УСH]\d+ (ИЙЕ|ДА|YES)|\b(ДОБУШТАР|ОПРОСЫ|POLLS|ДОЛБООР|ПРОЕКТ|PROJECT|АКТТАР|АКТЫ|ACTS)"
    r" [\dN]|\b[ДГV]\d+ \d|\b(БАА|ОЦЕНКА|R) \d"
)
#: replies to a command the person typed as by SMS may show the form to type
_ANSWERS_TO_TYPING = {"vote_refused", "rsvp_refused", "budget_refused", "rate_refused"}


@pytest.mark.parametrize("feature", sorted(set(FEATURES) - _ANSWERS_TO_TYPING - {"help"}), ids=str)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_telegram_texts_show_no_sms_codes(renderer: Renderer, lang: str, feature: str) -> None:
    text = renderer.render(feature, lang, "telegram", **sample(feature, lang))
    assert not _SMS_CODE.search(text), text


#: what a person must never read: an ISO date or timestamp, UTC, a two-digit year
_MACHINE_DATES = re.compile(
    r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|\bUTC\b|\+00:00|\b\d{1,2}[./-]\d{1,2}[./-]\d{2}\b"
)
#: the samples' hearing (10:00 on 4 December 2026 in Bishkek) as each language writes it
_HEARING_DAY = {"ky": "04.12.2026", "ru": "04.12.2026", "en": "4 Dec 2026"}


@pytest.mark.parametrize(("lang", "feature", "channel"), ALL)
def test_dates_in_one_format_per_language(
    renderer: Renderer, lang: str, feature: str, channel: str
) -> None:
    data = sample(feature, lang)
    text = renderer.render(feature, lang, channel, **data)
    assert not _MACHINE_DATES.search(text), text
    source = (TEMPLATES_DIR / lang / f"{feature}.{channel}.j2").read_text(encoding="utf-8")
    if "starts|" in source:  # a template that shows the hearing's day
        assert _HEARING_DAY[lang] in text, text
