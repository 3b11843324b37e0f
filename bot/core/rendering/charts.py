"""The budget as a picture: where the money comes from and where it goes.

Two horizontal bar panels on one scale (revenue by source, spending by category; the
largest first, the small ones together as "other"), each bar labelled with its amount.
Names come from the budget itself; every other word and the amounts (``som_short``,
as in the texts) come from the ``tg_budget_chart`` template in the reader's language.

Drawn with matplotlib's object API on the Agg canvas (``matplotlib.use("Agg")`` is not
needed: pyplot is never imported): no display, no global state. ``civic-bot run`` draws
in a child process of its own (:func:`draw_apart`, ``bot.core.rendering.chart_process``):
matplotlib and a drawing take about 50 MB, which the bot would otherwise keep for the
rest of its life (``bench/load.py``) for a picture drawn a few times a year. A
:class:`ChartCache` keeps each picture per budget version and language for the life of
the process, and the Telegram ``file_id`` of its first upload, so a picture is drawn
once and uploaded once.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import sys
import textwrap
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import asdict, dataclass

from bot.core.rendering.templates import Renderer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: bars per panel: the largest ones, and "other" for the rest when there are more
TOP = 6
_LABEL_WIDTH = 26  # characters per line of a category name
_REVENUE_COLOUR = "#1b9e77"
_SPENDING_COLOUR = "#d95f02"
_OTHER_COLOUR = "#9e9e9e"


@dataclass(frozen=True)
class BudgetChart:
    """What the picture shows: ``(name, amount)`` bars, largest first; ``None`` as the
    name is the "other" bar."""

    year: int
    revenue: list[tuple[str | None, int]]
    spending: list[tuple[str | None, int]]

    @property
    def amounts(self) -> list[int]:
        return [amount for _, amount in self.revenue + self.spending]


def largest(lines: Iterable[tuple[str, int]], top: int = TOP) -> list[tuple[str | None, int]]:
    """Amounts summed by name, largest first; beyond ``top`` bars the rest is one "other"."""
    totals: dict[str, int] = defaultdict(int)
    for name, amount in lines:
        totals[name] += amount
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(ordered) <= top:
        return list(ordered)
    kept: list[tuple[str | None, int]] = list(ordered[: top - 1])
    return [*kept, (None, sum(amount for _, amount in ordered[top - 1 :]))]


def budget_chart(
    year: int, revenue: Iterable[tuple[str, int]], spending: Iterable[tuple[str, int]]
) -> BudgetChart:
    return BudgetChart(year, largest(revenue), largest(spending))


def chart_words(renderer: Renderer, language: str, chart: BudgetChart) -> dict[str, str]:
    """The words of the picture in ``language``: ``title``, ``revenue``, ``spending``,
    ``other`` and, for each amount of :attr:`BudgetChart.amounts` in order, its label
    under the key ``"0"``, ``"1"``, ... (plain text: the picture is not HTML)."""
    text = renderer.render(
        "tg_budget_chart",
        language,
        "telegram",
        year=chart.year,
        revenue=sum(a for _, a in chart.revenue),
        spending=sum(a for _, a in chart.spending),
        amounts=chart.amounts,
    )
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): html.unescape(value.strip()) for key, value in pairs}


def draw_budget_chart(chart: BudgetChart, words: dict[str, str]) -> bytes:
    """The picture as PNG bytes (about 900×600 pixels)."""
    # Imported on first use: matplotlib takes half a second to load, and most
    # processes that load the handlers (the CLI, the tests) never draw.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [
        ("revenue", chart.revenue, _REVENUE_COLOUR),
        ("spending", chart.spending, _SPENDING_COLOUR),
    ]
    heights = [max(len(bars), 1) for _, bars, _ in panels]
    figure = Figure(figsize=(9, 1.6 + 0.45 * sum(heights)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 1, sharex=True, height_ratios=heights)
    labels = iter(words[str(n)] for n in range(len(chart.amounts)))
    largest_amount = max(chart.amounts, default=0) or 1
    for ax, (key, bars, colour) in zip(axes, panels, strict=True):
        names = [
            textwrap.fill(name if name is not None else words["other"], _LABEL_WIDTH)
            for name, _ in bars
        ]
        amounts = [amount for _, amount in bars]
        colours = [colour if name is not None else _OTHER_COLOUR for name, _ in bars]
        drawn = ax.barh(range(len(bars)), amounts, color=colours, height=0.7)
        ax.bar_label(drawn, labels=[next(labels) for _ in bars], padding=4, fontsize=9)
        ax.set_yticks(range(len(bars)), names, fontsize=9)
        ax.invert_yaxis()  # the largest on top
        ax.set_title(words[key], loc="left", fontsize=11, fontweight="bold")
        ax.set_xlim(0, largest_amount * 1.3)  # room for the amount after the longest bar
        ax.tick_params(axis="x", bottom=False, labelbottom=False)
        ax.tick_params(axis="y", length=0)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
    figure.suptitle(words["title"], fontsize=13, fontweight="bold")
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


#: a drawing that takes longer than this has hung
DRAW_TIMEOUT = 120.0


async def draw_apart(chart: BudgetChart, words: dict[str, str]) -> bytes:
    """:func:`draw_budget_chart` in a child process (``python -m
    bot.core.rendering.chart_process``: the chart and its words as JSON in, PNG out), so that
    matplotlib never loads into this one."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.core.rendering.chart_process",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    order = json.dumps({"chart": asdict(chart), "words": words}).encode()
    try:
        png, errors = await asyncio.wait_for(child.communicate(order), DRAW_TIMEOUT)
    except TimeoutError:
        child.kill()
        await child.wait()
        raise RuntimeError(f"drawing the chart took over {DRAW_TIMEOUT:.0f} s") from None
    if child.returncode != 0 or not png.startswith(PNG_SIGNATURE):
        reason = (errors.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"drawing the chart failed ({child.returncode}): {reason}")
    return png


def chart_from_json(data: dict) -> BudgetChart:
    """The :class:`BudgetChart` that ``dataclasses.asdict`` turned into ``data``."""
    return BudgetChart(
        int(data["year"]),
        [(name, int(amount)) for name, amount in data["revenue"]],
        [(name, int(amount)) for name, amount in data["spending"]],
    )


class ChartCache:
    """Pictures by key (e.g. ``(budget id, language)``), drawn once per process.

    A new budget version has a new id, so a new key: it is drawn anew and the old
    pictures age out (the cache keeps the ``size`` latest used). Next to each picture
    it keeps the Telegram ``file_id`` of its first upload: later sends name the file
    instead of uploading it again.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self.draws = 0
        self._png: OrderedDict[Hashable, bytes] = OrderedDict()
        self._file_ids: dict[Hashable, str] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}

    def file_id(self, key: Hashable) -> str | None:
        """The picture's Telegram ``file_id`` once it was uploaded."""
        return self._file_ids.get(key)

    def remember(self, key: Hashable, file_id: str) -> None:
        self._file_ids[key] = file_id

    def forget_file(self, key: Hashable) -> None:
        """Telegram no longer knows the file (another bot token?): upload it again."""
        self._file_ids.pop(key, None)

    def cached(self, key: Hashable) -> bytes | None:
        png = self._png.get(key)
        if png is not None:
            self._png.move_to_end(key)
        return png

    async def png(self, key: Hashable, draw: Callable[[], Awaitable[bytes]]) -> bytes:
        """The picture of ``key``: drawn by ``draw`` (once; two requests at the same time
        wait for one drawing) or the one already drawn."""
        png = self.cached(key)
        if png is not None:
            return png
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            png = self.cached(key)
            if png is None:
                png = await draw()
                self.draws += 1
                self._png[key] = png
                self._evict()
        return png

    def _evict(self) -> None:
        while len(self._png) > self.size:
            old, _ = self._png.popitem(last=False)
            self._file_ids.pop(old, None)
            self._locks.pop(old, None)
