"""The languages people read: Kyrgyz (the default), Russian, English."""

from __future__ import annotations

from typing import Literal

from storage.models import Texts

Language = Literal["ky", "ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ky", "ru", "en")


def in_language(value: object, language: str) -> str:
    """``value`` as a reader of ``language`` sees it: a name staff entered
    (:class:`storage.models.Texts`) in that language, else its base text (the municipality's
    default language, else any); anything else as ``str``."""
    if isinstance(value, Texts):
        return value.versions.get(language) or str(value)
    return str(value)
