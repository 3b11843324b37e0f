"""The web pages' texts per language: ``templates/web/<site>/texts/<lang>.toml`` (the staff
console's, ``staff``, and the public pages', ``public``)."""

from __future__ import annotations

import functools
import tomllib

from bot.core.languages import LANGUAGES
from bot.core.rendering.templates import TEMPLATES_DIR


@functools.cache
def texts(language: str, site: str = "staff") -> dict[str, str]:
    """Every text of the ``site`` (the console by default) in ``language`` (ky, ru or en)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    with (TEMPLATES_DIR / "web" / site / "texts" / f"{language}.toml").open("rb") as file:
        return tomllib.load(file)
