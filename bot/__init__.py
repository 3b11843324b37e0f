"""civic-bot: budget democracy for a rural municipality over Telegram and SMS."""

from bot.channels.telegram import lazy_aiogram

lazy_aiogram.install()
