"""What the step-by-step forms (``act_form``, ``hearing_form``) share: their answers,
and the handler of their buttons of a step already done.

A form keeps its answers in the FSM data under its own key: other features keep theirs
in the same data (the ballot drafts, the rating marks), so a form never clears the
whole of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery


@dataclass(frozen=True)
class FormAnswers:
    """The answers of the form whose steps are ``states``, under ``key`` in the FSM data."""

    key: str
    states: type[StatesGroup]

    async def get(self, state: FSMContext) -> dict[str, Any]:
        """The answers so far (a copy, to change and :meth:`put` back)."""
        return dict((await state.get_data()).get(self.key) or {})

    async def put(self, state: FSMContext, answers: dict[str, Any]) -> None:
        await state.update_data({self.key: answers})

    async def save(self, state: FSMContext, step: State, **answers: Any) -> dict[str, Any]:
        """Keep ``answers`` and move to ``step``; returns all the answers so far."""
        form = {**await self.get(state), **answers}
        await self.put(state, form)
        await state.set_state(step)
        return form

    async def forget(self, state: FSMContext) -> None:
        """Drop the form (its state and its answers) and nothing else of the FSM data."""
        if (await state.get_state()) in self.states:
            await state.set_state(None)
        data = await state.get_data()
        if self.key in data:
            del data[self.key]
            await state.set_data(data)


async def stale_button(callback: CallbackQuery) -> None:
    """A form's button of a step already done (or of a form gone): nothing to do."""
    await callback.answer()
