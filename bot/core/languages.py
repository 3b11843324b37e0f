"""The languages people read: Kyrgyz (the default), Russian, English."""

from __future__ import annotations

from typing import Literal

Language = Literal["ky", "ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ky", "ru", "en")
