"""The languages people read: Kyrgyz (the default), Russian, English."""

from __future__ import annotations

from collections.abc import Mapping
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


def texts(name: str, versions: Mapping[str, str], default_language: str) -> Texts:
    """A name staff entered as a plain ``name`` and/or its versions (``{"ky": ...}``): the
    base text is the plain name, else the version in ``default_language``, else any."""
    given = {lang: versions[lang].strip() for lang in LANGUAGES if versions.get(lang, "").strip()}
    base = name.strip() or given.get(default_language) or next(iter(given.values()), "")
    return Texts(base, given)


def with_versions(old: str, versions: Mapping[str, str], default_language: str) -> Texts:
    """``old`` with ``versions`` in place of its versions in those languages, its other
    versions kept (staff correcting the Russian name leave the Kyrgyz one as it was); the
    base text is the new version in ``default_language`` if there is one, else the old."""
    kept = old.versions if isinstance(old, Texts) else {}
    return Texts(versions.get(default_language) or str(old), {**kept, **versions})


def spellings(name: str) -> set[str]:
    """Every spelling of a name, case-folded, for finding a village by any of its names."""
    return name.forms() if isinstance(name, Texts) else {name.casefold()}
