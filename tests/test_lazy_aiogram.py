"""aiogram imported through ``bot`` builds its models on first use
(bot/channels/telegram/lazy_aiogram.py).

Each check runs in a fresh interpreter: in this one the tests imported aiogram already.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib.metadata import version

import pytest

from bot.channels.telegram.lazy_aiogram import CHECKED_WITH
from tests.processes import REPO_ROOT


def run_fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter from the repository; it prints one JSON object."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("library", sorted(CHECKED_WITH))
def test_the_hook_was_checked_against_the_installed_libraries(library: str) -> None:
    """The hook patches pydantic while aiogram loads: a new aiogram or pydantic may make
    it do nothing (the memory saving gone) or worse. Check it against the new version
    (this file, ``bench/load.py``'s RSS), then put that version in ``CHECKED_WITH``."""
    installed = tuple(int(part) for part in version(library).split(".")[:2])
    assert installed == CHECKED_WITH[library], (
        f"{library} {version(library)} is installed; bot/channels/telegram/lazy_aiogram.py "
        f"was checked with {library} {CHECKED_WITH[library]}: check the hook, then update it"
    )


def test_importing_the_app_builds_no_bot_api_model() -> None:
    found = run_fresh(
        """
        import json
        import bot.app
        import aiogram.methods, aiogram.types
        from aiogram.methods import TelegramMethod
        from aiogram.types import TelegramObject

        def built(module, base):
            models = [getattr(module, name) for name in module.__all__]
            return [
                model.__name__ for model in models
                if isinstance(model, type) and issubclass(model, base) and model is not base
                and model.__pydantic_complete__
            ]

        print(json.dumps({
            "types": built(aiogram.types, TelegramObject),
            "methods": built(aiogram.methods, TelegramMethod),
        }))
        """
    )
    assert found == {"types": [], "methods": []}


def test_every_type_and_method_builds_on_first_use() -> None:
    found = run_fresh(
        """
        import json
        import bot
        import aiogram.methods, aiogram.types
        from pydantic import BaseModel

        failed, count = {}, 0
        for module in (aiogram.types, aiogram.methods):
            for name in module.__all__:
                model = getattr(module, name)
                if not (isinstance(model, type) and issubclass(model, BaseModel)):
                    continue
                count += 1
                try:
                    model.model_rebuild(raise_errors=True)
                except Exception as exc:
                    failed[name] = str(exc).splitlines()[0]
                else:
                    if not model.__pydantic_complete__:
                        failed[name] = "not complete"
        print(json.dumps({"count": count, "failed": failed}))
        """
    )
    assert found["failed"] == {}
    assert found["count"] > 500


def test_an_update_and_a_method_round_trip_after_a_lazy_import() -> None:
    found = run_fresh(
        """
        import json
        import bot
        from aiogram.methods import SendMessage
        from aiogram.methods.base import Response
        from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

        update = Update.model_validate({
            "update_id": 7,
            "message": {
                "message_id": 3, "date": 1764547200, "text": "ME",
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "Aigul"},
                "contact": {"phone_number": "+996700000001", "first_name": "Aigul",
                            "user_id": 42},
            },
        })
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="h:1:yes")]]
        )
        method = SendMessage(chat_id=42, text="<b>hi</b>", reply_markup=markup)
        answer = Response[Message].model_validate({
            "ok": True,
            "result": {"message_id": 9, "date": 1764547201, "text": "hi",
                       "chat": {"id": 42, "type": "private"}},
        })
        print(json.dumps({
            "text": update.message.text,
            "user": update.message.from_user.first_name,
            "phone": update.message.contact.phone_number,
            "button": method.model_dump(exclude_none=True)["reply_markup"]
                ["inline_keyboard"][0][0]["callback_data"],
            "sent": answer.result.message_id,
        }))
        """
    )
    assert found == {
        "text": "ME",
        "user": "Aigul",
        "phone": "+996700000001",
        "button": "h:1:yes",
        "sent": 9,
    }


def test_a_bot_api_answer_model_is_built_once() -> None:
    """aiogram makes ``Response[T]`` for every call; pydantic's cache of parametrised
    models is weak, so without help it was built again after every collection."""
    found = run_fresh(
        """
        import asyncio, gc, json, weakref
        import bot
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer
        from aiogram.methods.base import Response
        from aiogram.types import Message
        from tests.fakes.telegram_api import FakeTelegramAPI

        async def main():
            async with FakeTelegramAPI() as api:
                session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
                sender = Bot("123456:TEST", session=session)
                await sender.send_message(5001, "one")
                answer = weakref.ref(Response[Message])
                gc.collect()
                await sender.send_message(5001, "two")
                await session.close()
                return answer() is not None and answer() is Response[Message]

        print(json.dumps({"kept": asyncio.run(main())}))
        """
    )
    assert found == {"kept": True}
