"""The test suite. ``bot`` first: aiogram, imported by the tests too, then builds its
models on first use exactly as in ``civic-bot run`` (bot/channels/telegram/lazy_aiogram.py)."""

import bot  # noqa: F401
