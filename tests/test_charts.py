"""The budget chart: a PNG in the reader's language, drawn once per budget version."""

from __future__ import annotations

import asyncio
import io
import struct
import subprocess
import sys
from functools import partial

import pytest

from bot.core.languages import LANGUAGES
from bot.core.rendering.charts import (
    PNG_SIGNATURE,
    TOP,
    BudgetChart,
    ChartCache,
    budget_chart,
    chart_words,
    draw_apart,
    draw_budget_chart,
    largest,
)
from bot.core.rendering.templates import Renderer
from tests.processes import REPO_ROOT

REVENUE = [
    ("Local taxes", 2_100_000),
    ("Land tax", 1_400_000),
    ("Mining company payments", 3_800_000),
    ("Equalisation grant (republican budget)", 4_200_000),
]
SPENDING = [
    ("Administration", 3_100_000),
    ("Schools and kindergartens", 2_400_000),
    ("Street lighting", 300_000),
    ("Street lighting", 400_000),
    ("Roads", 600_000),
    ("Roads", 900_000),
    ("Drinking water", 800_000),
    ("Reserve fund", 600_000),
    ("Boiler house", 1_100_000),
]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def test_largest_sums_by_name_and_keeps_the_rest_as_other() -> None:
    bars = largest(SPENDING, top=4)
    assert bars == [
        ("Administration", 3_100_000),
        ("Schools and kindergartens", 2_400_000),
        ("Roads", 1_500_000),
        (None, 700_000 + 800_000 + 600_000 + 1_100_000),
    ]
    assert sum(amount for _, amount in bars) == sum(amount for _, amount in SPENDING)
    # no "other" when every name has its own bar
    assert largest(REVENUE, top=4) == sorted(REVENUE, key=lambda kv: -kv[1])
    assert len(largest(SPENDING)) == TOP


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_chart_is_a_png_with_words_in_the_readers_language(
    renderer: Renderer, language: str
) -> None:
    chart = budget_chart(2015, REVENUE, SPENDING)
    words = chart_words(renderer, language, chart)

    png = draw_budget_chart(chart, words)

    assert png.startswith(PNG_SIGNATURE)
    width, height = png_size(png)
    assert 600 <= width <= 1200 and 300 <= height <= 1200
    title = {"ky": "2015-жылдын бюджети", "ru": "Бюджет 2015 года", "en": "Budget 2015"}
    assert words["title"].startswith(title[language])
    # one label per bar, in the order of the bars, formatted like the texts (som_short)
    assert len([key for key in words if key.isdigit()]) == len(chart.amounts)
    env = renderer._envs["telegram"]
    assert words["0"] == env.from_string("{{ v|som_short }}").render(lang=language, v=4_200_000)


def test_the_chart_draws_without_a_display_and_reads_back_as_an_image() -> None:
    import matplotlib.image

    chart = BudgetChart(2015, [("Local taxes", 100)], [(None, 100)])
    words = {"title": "T", "revenue": "R", "spending": "S", "other": "O", "0": "1", "1": "2"}
    image = matplotlib.image.imread(io.BytesIO(draw_budget_chart(chart, words)), format="png")
    assert image.ndim == 3


async def test_the_cache_draws_a_key_once_and_a_new_budget_version_again() -> None:
    cache = ChartCache()
    drawn: list[str] = []

    async def draw(name: str) -> bytes:
        drawn.append(name)
        return PNG_SIGNATURE + name.encode()

    first = await cache.png((1, "ky"), lambda: draw("v1"))
    again = await cache.png((1, "ky"), lambda: draw("v1 again"))
    assert first == again == PNG_SIGNATURE + b"v1"
    assert drawn == ["v1"] and cache.draws == 1

    await cache.png((1, "ru"), lambda: draw("v1 ru"))  # another language: its own picture
    await cache.png((2, "ky"), lambda: draw("v2"))  # a new budget version: drawn again
    assert drawn == ["v1", "v1 ru", "v2"] and cache.draws == 3


async def test_two_requests_at_once_wait_for_one_drawing() -> None:
    cache = ChartCache()
    calls = 0

    release = asyncio.Event()

    async def slow() -> bytes:
        nonlocal calls
        calls += 1
        await release.wait()
        return PNG_SIGNATURE

    async def soon() -> None:
        await asyncio.sleep(0)
        release.set()

    *results, _ = await asyncio.gather(*(cache.png((1, "en"), slow) for _ in range(5)), soon())
    assert results == [PNG_SIGNATURE] * 5
    assert calls == 1 and cache.draws == 1


async def test_the_cache_keeps_the_telegram_file_id_and_the_latest_pictures() -> None:
    cache = ChartCache(size=2)
    assert cache.file_id((1, "en")) is None
    await cache.png((1, "en"), partial(_ready, b"1"))
    cache.remember((1, "en"), "AgAC-1")
    assert cache.file_id((1, "en")) == "AgAC-1"
    cache.forget_file((1, "en"))
    assert cache.file_id((1, "en")) is None
    assert cache.cached((1, "en")) == b"1"  # the picture stays: upload it again, no redraw

    cache.remember((1, "en"), "AgAC-1")
    await cache.png((2, "en"), partial(_ready, b"2"))
    await cache.png((3, "en"), partial(_ready, b"3"))  # the oldest goes, with its file_id
    assert cache.cached((1, "en")) is None and cache.file_id((1, "en")) is None
    assert cache.cached((3, "en")) == b"3"


async def _ready(png: bytes) -> bytes:
    return png


async def test_a_chart_drawn_apart_is_the_chart_drawn_here(renderer: Renderer) -> None:
    """civic-bot run draws in a child process (matplotlib stays out of the bot's memory):
    the same picture, byte for byte."""
    chart = budget_chart(
        2026, [("Local taxes", 2_100_000), ("Grant", 8_500_000)], [("Schools", 6_200_000)]
    )
    words = chart_words(renderer, "ky", chart)
    assert await draw_apart(chart, words) == draw_budget_chart(chart, words)


async def test_a_chart_that_cannot_be_drawn_apart_is_a_clear_error() -> None:
    chart = budget_chart(2026, [("Local taxes", 2_100_000)], [])
    with pytest.raises(RuntimeError, match="drawing the chart failed"):
        await draw_apart(chart, {"title": "no labels: the words are missing"})


def test_the_bot_does_not_load_matplotlib() -> None:
    """Only the child that draws imports it (about 50 MB kept for the process's life)."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, bot.app; print('matplotlib' in sys.modules)"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.strip() == "False", done.stderr
