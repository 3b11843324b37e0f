"""Every text a user sees comes from ``templates/<lang>/<feature>.<channel>.j2`` (web
pages: ``templates/web/``).

Three jinja2 environments share the template files: Telegram output is HTML with
autoescape on; SMS (and the console, which shows what an SMS user would get) is
plain text; web pages are HTML with autoescape on. Babel formats numbers, money and
dates in the reader's language and the municipality's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import jinja2.ext
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

import templates as _templates_package
from bot.core.languages import LANGUAGES, in_language
from bot.core.phones import mask_phone
from bot.core.rendering import kyrgyz
from bot.core.rendering.sms import LIMITS, sms_size
from storage.models import Texts

TEMPLATES_DIR = Path(_templates_package.__file__).parent
CHANNELS = ("sms", "telegram")
#: the console demo shows exactly what an SMS user would receive
CHANNEL_TEMPLATES = {"sms": "sms", "console": "sms", "telegram": "telegram"}

#: an SMS reply may take at most this many segments (two UCS-2 parts: 134 characters)
SMS_MAX_SEGMENTS = 2
#: ... in any language: a Latin text, too, keeps to what two UCS-2 parts hold, so that a
#: Cyrillic name in it (a resident's, a village's) never makes it cost more
SMS_MAX_UNITS = LIMITS["UCS-2"][1] * SMS_MAX_SEGMENTS
SMS_FIT_WIDTHS = (None, 40, 30, 24, 18, 14, 10, 6)

_MILLION = {"ky": "млн", "ru": "млн", "en": "mln"}
_SOM = {"ky": "сом", "ru": "сом", "en": "som"}
_BABEL_LOCALE = {"ky": "ky", "ru": "ru", "en": "en_GB"}
#: One date pattern per language, everywhere a person reads a date (SMS, Telegram, web
#: pages), written out rather than taken from CLDR by name: CLDR releases change them
#: (Babel 2.19 turned Kyrgyz "4/12/26" into "04.12.26"), and an SMS's length, and what
#: residents learned to read, should not change with a library. Four-digit years only;
#: English names the month, as "04/12/2026" reads differently in London and New York.
_DATE_PATTERN = {"ky": "dd.MM.y", "ru": "dd.MM.y", "en": "d MMM y"}
#: how a date and a time are joined ({1}: the date, {0}: the time)
_DATETIME_JOIN = {"ky": "{1} {0}", "ru": "{1}, {0}", "en": "{1}, {0}"}
_TIME_PATTERN = "HH:mm"


#: a block tag (``{% if %}``, ``{% endif %}``, ``{% for %}``...) ending a line
_TAG_AT_LINE_END = re.compile(r"(?<![+-])%}$")
_TAGS = re.compile(r"{%.*?%}|{#.*?#}")


class KeepLineEnds(jinja2.ext.Extension):
    """``trim_blocks`` eats the newline after every block tag: right for a line that is
    only tags, wrong for text that ends in one (``MAYBE{% if agenda %}`` then the agenda
    on the next line ran together in every language). A line with anything besides tags
    keeps its newline (``+%}``: Jinja's own switch for one tag)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        lines = source.split("\n")
        for n, line in enumerate(lines[:-1]):
            if _TAG_AT_LINE_END.search(line) and _TAGS.sub("", line).strip():
                lines[n] = line[:-2] + "+%}"
        return "\n".join(lines)


class Paged(list[Any]):
    """A list an SMS shows a page at a time: as many whole items as fit two segments, the
    template naming the command for ``next_page`` (``PROBLEMS 2``). Telegram shows every
    item. A page past the last shows the last. (A list, for code that reads the items.)"""

    def __init__(self, items: Iterable[Any] = (), page: int = 1) -> None:
        super().__init__(items)
        self.page = page


class Renderer:
    def __init__(self, tz: ZoneInfo | str = "Asia/Bishkek") -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        loader = jinja2.FileSystemLoader(TEMPLATES_DIR)
        common: dict[str, Any] = {
            "loader": loader,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": False,
            "undefined": jinja2.StrictUndefined,
            # templates are files of the installed package: no stat() per render
            "auto_reload": False,
            # a name staff entered shows in the reader's language wherever it is printed
            "finalize": _finalize,
            "extensions": [KeepLineEnds],
        }
        self._envs = {
            "sms": jinja2.Environment(autoescape=False, **common),
            "telegram": jinja2.Environment(autoescape=True, **common),
            # the web pages of templates/web/ (HTML, escaped)
            "web": jinja2.Environment(autoescape=True, **common),
        }
        for env in self._envs.values():
            env.filters.update(
                number=self._number,
                som=self._som,
                date=self._date,
                datetime=self._datetime,
                time=self._time,
                fit=_fit,
                som_short=self._som_short,
                ky=self._ky,
                tr=_tr,
            )
        # phones on a page are shown masked
        self._envs["web"].filters["masked"] = mask_phone

    def format_date(self, value: date | datetime | str, language: str) -> str:
        """A day as ``language`` writes it (``04.12.2026``, ``4 Dec 2026``), in the
        municipality's time zone; ``value`` may be stored ISO 8601 text."""
        value = _moment(value)
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return format_date(value, _DATE_PATTERN[language], locale=_BABEL_LOCALE[language])

    def format_time(self, value: datetime | str, language: str) -> str:
        """``HH:mm`` in the municipality's time zone."""
        return format_time(
            _moment(value), _TIME_PATTERN, tzinfo=self.tz, locale=_BABEL_LOCALE[language]
        )

    def format_datetime(self, value: datetime | str, language: str) -> str:
        """Day and time (``04.12.2026 10:00``, ``4 Dec 2026, 10:00``), in the
        municipality's time zone: the one way every text shows a moment."""
        pattern = _DATETIME_JOIN[language].format(_TIME_PATTERN, _DATE_PATTERN[language])
        return format_datetime(
            _moment(value), pattern, tzinfo=self.tz, locale=_BABEL_LOCALE[language]
        )

    def render(self, feature: str, language: str, channel: str, **data: Any) -> str:
        """Render ``<language>/<feature>.<channel>.j2``; the text is stripped.

        An SMS must fit two segments. A :class:`Paged` list in ``data`` is shown a page of
        whole items at a time (the template gets the page's items, ``page`` and
        ``next_page``: None on the last). Only what does not fit even so (one item, a
        free text) is shortened: values marked ``|fit``, step by step, at a word's end.
        Telegram shows everything whole.
        """
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        kind = CHANNEL_TEMPLATES[channel]
        template = self._envs[kind].get_template(f"{language}/{feature}.{kind}.j2")
        context = {"page": 1, "next_page": None, **data, "lang": language}
        paged = next(((k, v) for k, v in data.items() if isinstance(v, Paged)), None)
        if paged is None:
            return _fitted(template, context, kind)
        key, listed = paged
        items = list(listed)
        if kind != "sms":
            return _fitted(template, {**context, key: items}, kind)
        pages = _pages(template, context, key, items)
        number = min(max(listed.page, 1), len(pages))
        start, end = pages[number - 1]
        return _fitted(
            template,
            {**context, key: items[start:end], "page": number,
             "next_page": number + 1 if number < len(pages) else None},
            kind,
        )  # fmt: skip

    def render_page(self, name: str, language: str, **data: Any) -> str:
        """An HTML page, ``templates/web/<name>``, in ``language`` (the same filters)."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        return self._envs["web"].get_template(f"web/{name}").render(lang=language, **data)

    def render_table(
        self, feature: str, language: str, channel: str = "telegram"
    ) -> dict[str, str]:
        """A template of ``key: text`` lines (e.g. button labels) as a dict."""
        text = self.render(feature, language, channel)
        pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
        return {key.strip(): value.strip() for key, value in pairs}

    @staticmethod
    @jinja2.pass_context
    def _number(context: jinja2.runtime.Context, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=_BABEL_LOCALE[context["lang"]])

    @staticmethod
    @jinja2.pass_context
    def _ky(context: jinja2.runtime.Context, value: int | str, case: str) -> str:
        """A number or name with its Kyrgyz case suffix: ``{{ count|ky("dative") }}`` is
        "5ке" (numbers formatted as ``number`` formats them)."""
        lang = context["lang"]
        value = in_language(value, lang) if isinstance(value, str) else value
        shown = _format_if_number(value, lang)
        return kyrgyz.inflected(value, case, shown)

    @staticmethod
    @jinja2.pass_context
    def _som(context: jinja2.runtime.Context, value: int | float | Decimal) -> str:
        lang = context["lang"]
        return f"{format_decimal(value, format='#,##0', locale=_BABEL_LOCALE[lang])} {_SOM[lang]}"

    @staticmethod
    @jinja2.pass_context
    def _som_short(
        context: jinja2.runtime.Context, value: int | float | Decimal, unit: bool = True
    ) -> str:
        """Millions as ``12,5 млн сом`` (``12,5 млн`` without the unit) where an SMS has
        no room for every digit."""
        lang = context["lang"]
        if abs(value) < 1_000_000:
            text = format_decimal(value, format="#,##0", locale=_BABEL_LOCALE[lang])
        else:
            millions = format_decimal(
                value / 1_000_000, format="#,##0.#", locale=_BABEL_LOCALE[lang]
            )
            text = f"{millions} {_MILLION[lang]}"
        return f"{text} {_SOM[lang]}" if unit else text

    @jinja2.pass_context
    def _date(self, context: jinja2.runtime.Context, value: date | datetime | str) -> str:
        return self.format_date(value, context["lang"])

    @jinja2.pass_context
    def _datetime(self, context: jinja2.runtime.Context, value: datetime | str) -> str:
        return self.format_datetime(value, context["lang"])

    @jinja2.pass_context
    def _time(self, context: jinja2.runtime.Context, value: datetime | str) -> str:
        return self.format_time(value, context["lang"])


def _moment(value: date | datetime | str) -> date | datetime:
    """Stored timestamps are ISO 8601 text, a local day ``YYYY-MM-DD`` (no time zone to
    move it by); dates and datetimes pass as they are."""
    if isinstance(value, str):
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    return value


def _fits(text: str) -> bool:
    return sms_size(text).units <= SMS_MAX_UNITS


#: a full stop a template puts after a value that ends a sentence itself: "…" of a
#: shortened name, or the name's own "." ("…. More: ACTS 5 2", "done.. More")
_DOUBLE_STOP = re.compile(r"(?<=…)\.|(?<=[^.]\.)\.(?=\s|$)")


def _fitted(template: jinja2.Template, context: dict[str, Any], kind: str) -> str:
    """The text whole, or (an SMS that does not fit) with ``|fit`` values shortened."""
    for width in SMS_FIT_WIDTHS if kind == "sms" else (None,):
        text = _DOUBLE_STOP.sub("", template.render(fit_width=width, **context).strip())
        if _fits(text):
            break
    return text


def _pages(
    template: jinja2.Template, context: dict[str, Any], key: str, items: list[Any]
) -> list[tuple[int, int]]:
    """``(start, end)`` of each page: as many whole items as fit, at least one."""
    pages: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + 1, len(items))
        while end < len(items):
            more = end + 1
            page = {**context, key: items[start:more], "page": len(pages) + 1,
                    "next_page": len(pages) + 2 if more < len(items) else None}  # fmt: skip
            if not _fits(template.render(fit_width=None, **page).strip()):
                break
            end = more
        pages.append((start, end))
        if end >= len(items):
            return pages
        start = end


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: object) -> object:
    """What ``{{ value }}`` prints: a :class:`storage.models.Texts` in the reader's language."""
    return in_language(value, context["lang"]) if isinstance(value, Texts) else value


@jinja2.pass_context
def _tr(context: jinja2.runtime.Context, value: object) -> str:
    """``{{ village|tr }}``: a name in the reader's language, where a template works on the
    text before printing it (``{{ (project|tr)|length }}``)."""
    return in_language(value, context["lang"])


@jinja2.pass_context
def _fit(context: jinja2.runtime.Context, value: object) -> str:
    """Shorten to the width the renderer is trying (``…`` marks a cut)."""
    text, width = in_language(value, context["lang"]), context.get("fit_width")
    if width is None or len(text) <= width:
        return text
    cut = text[: width - 1]
    # at a word's end where there is one: never half a word
    return (cut.rsplit(" ", 1)[0] if " " in cut.strip() else cut).rstrip(" ,;:-(") + "…"


def _format_if_number(value: object, lang: str) -> str:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return format_decimal(value, locale=_BABEL_LOCALE[lang])
    return str(value)


def template_names() -> set[tuple[str, str, str]]:
    """Every ``(language, feature, channel)`` that has a template file."""
    found = set()
    for path in TEMPLATES_DIR.glob("*/*.j2"):
        feature, _, channel = path.stem.rpartition(".")
        found.add((path.parent.name, feature, channel))
    return found
