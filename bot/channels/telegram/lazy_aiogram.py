"""aiogram without building every Bot API model when it is imported.

aiogram defines the Bot API as pydantic models, about 440 types and 190 methods, and its
package import builds the validator and serializer of every one: ``aiogram/types``
calls ``model_rebuild`` on each type, and the methods build as they are defined. That is
about 100 MB of memory and a second and a half before the bot has seen an update; a
running civic-bot uses a few dozen of those models.

:func:`install` (run by ``import bot`` and ``import handlers``, before anything of ours
imports aiogram) makes them lazy:

- while ``aiogram.types`` runs, a type's ``model_rebuild(_types_namespace=...)`` does not
  build: it puts the names of that namespace into the type's module (the names aiogram
  imports there only for type checkers), where pydantic finds them when it builds the
  type itself, the first time one is validated or serialised (``defer_build``, which
  aiogram sets on every type);
- ``TelegramMethod`` gets ``defer_build`` too, so a method builds on its first call;
- every ``Response[T]`` (the model of a Bot API answer, which aiogram parametrises anew
  for every call) is kept: pydantic caches parametrised models only weakly, so it built
  ``Response[Message]`` again after every garbage collection, 9 ms each time
  (``bench/inbound.py``: 111 times in 2,000 updates).

This is code that works against its libraries, kept for what it saves (``bench/README.md``,
"aiogram's models": importing ``bot.app`` takes about 106 MB and 13 s less on the shared
bench machine) and kept here alone. If a later aiogram builds its models another way,
these hooks find nothing to change and aiogram builds as it always did; nothing breaks,
but the saving is gone. So that nobody finds out from a memory graph,
``tests/test_lazy_aiogram.py`` fails loudly: when aiogram's or pydantic's version is not
the one in :data:`CHECKED_WITH` (check the hook against the new one, then put it there), when an
import of the app builds any Bot API model, and when any type or method no longer builds
on first use (in a fresh interpreter each).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

#: the (major, minor) versions of aiogram and pydantic the hook was checked against
CHECKED_WITH = {"aiogram": (3, 31), "pydantic": (2, 13)}

_TYPES = "aiogram.types"
_METHODS_BASE = "aiogram.methods.base"


@contextlib.contextmanager
def _types_built_on_first_use() -> Iterator[None]:
    """While aiogram's types are defined: their ``model_rebuild`` hands out names only."""
    from pydantic import BaseModel

    rebuild = BaseModel.__dict__["model_rebuild"]

    def deferred(cls: type[BaseModel], *args: Any, **kwargs: Any) -> bool | None:
        namespace = kwargs.get("_types_namespace")
        if namespace is None or not cls.__module__.startswith(_TYPES):
            return rebuild.__func__(cls, *args, **kwargs)
        module = sys.modules[cls.__module__].__dict__
        for name, value in namespace.items():
            module.setdefault(name, value)
        return None

    BaseModel.model_rebuild = classmethod(deferred)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]


#: every parametrised ``Response[T]`` made so far (a few dozen at most: one per answer type)
_RESPONSES: list[type] = []


def _methods_built_on_first_use(module: ModuleType) -> None:
    """Right after ``aiogram.methods.base`` ran, before any method is defined."""
    module.TelegramMethod.model_config["defer_build"] = True
    _keep_responses(module)


def _keep_responses(module: ModuleType) -> None:
    """Keep every ``Response[T]`` made from now on (see the module's doc)."""
    module.Response.__pydantic_init_subclass__ = classmethod(
        lambda cls, **_: _RESPONSES.append(cls)
    )


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the two aiogram modules as usual and wraps how they are run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in (_TYPES, _METHODS_BASE):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run: Callable[[ModuleType], None] = spec.loader.exec_module
        if fullname == _TYPES:

            def exec_module(module: ModuleType) -> None:
                with _types_built_on_first_use():
                    run(module)

        else:

            def exec_module(module: ModuleType) -> None:
                run(module)
                _methods_built_on_first_use(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Make aiogram's models build on first use, if aiogram is not imported yet (else
    only keep its ``Response`` models from now on)."""
    if any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    if _TYPES not in sys.modules:
        sys.meta_path.insert(0, _Finder())
    elif _METHODS_BASE in sys.modules:
        _keep_responses(sys.modules[_METHODS_BASE])
