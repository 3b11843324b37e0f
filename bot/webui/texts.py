"""The console's texts per language: ``templates/web/staff/texts/<lang>.toml``."""

from __future__ import annotations

import functools
import tomllib

from bot.core.languages import LANGUAGES
from bot.core.rendering.templates import TEMPLATES_DIR

TEXTS_DIR = TEMPLATES_DIR / "web" / "staff" / "texts"


@functools.cache
def texts(language: str) -> dict[str, str]:
    """Every text of the console in ``language`` (ky, ru or en)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    with (TEXTS_DIR / f"{language}.toml").open("rb") as file:
        return tomllib.load(file)
