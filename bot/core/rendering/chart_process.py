"""The child process that draws a budget chart (:func:`bot.core.rendering.charts.draw_apart`).

Reads ``{"chart": ..., "words": ...}`` as JSON on stdin, writes the PNG to stdout.
"""

from __future__ import annotations

import json
import sys

from bot.core.rendering.charts import chart_from_json, draw_budget_chart


def main() -> None:
    order = json.load(sys.stdin)
    sys.stdout.buffer.write(draw_budget_chart(chart_from_json(order["chart"]), order["words"]))


if __name__ == "__main__":
    main()
