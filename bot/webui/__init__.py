"""The staff console on the web (``/staff/``): thin aiohttp handlers over bot/services,
pages rendered from ``templates/web/staff/`` in the staff member's language."""

from bot.webui.app import build_console

__all__ = ["build_console"]
