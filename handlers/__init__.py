"""Input adapters: the text commands (SMS, console) and the Telegram routers."""

import bot  # noqa: F401  (before aiogram: its models build on first use, bot/channels/telegram/lazy_aiogram.py)
