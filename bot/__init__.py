"""civic-bot: budget democracy for a rural municipality over Telegram and SMS."""

from bot import lazy_aiogram

lazy_aiogram.install()
