"""The public pages (``/m/``): every municipality's budget, projects, hearings, polls and
service ratings, open to anyone, for a slow mobile line; see ``pages``."""

from bot.webui.public.app import build_public
from bot.webui.public.pages import Public

__all__ = ["Public", "build_public"]
