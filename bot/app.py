"""``civic-bot run``: web server, Telegram bot, outbox worker and scheduler in one process."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.channels.android import AndroidSender, parse_phones
from bot.channels.android import webhook_handler as android_webhook
from bot.channels.gateway_events import GatewayEvents
from bot.channels.http_gateway import STATUS_OUTCOMES, HttpGatewayConfig, HttpGatewaySender
from bot.channels.http_gateway import inbound_handler as http_inbound
from bot.channels.http_gateway import status_handler as http_status
from bot.channels.smpp import SmppChannel, SmppConfig
from bot.channels.telegram import webhook as telegram_webhook
from bot.channels.telegram.dispatcher import build_dispatcher, set_commands
from bot.channels.telegram.files import file_fetcher
from bot.channels.telegram.fsm_storage import forget_stale
from bot.channels.telegram.progress import ProgressEditor
from bot.channels.telegram.sender import TelegramSender
from bot.channels.twilio import webhook as twilio_webhook
from bot.channels.twilio.sender import TwilioSender, twilio_client
from bot.config import Settings, SettingsError, load_settings
from bot.core.clock import Clock, SystemClock
from bot.core.rendering.templates import Renderer
from bot.core.services import ballot_upgrade
from bot.core.services.console import Policy
from bot.core.services.errors import ServiceError
from bot.core.services.hearing_jobs import HearingJobs
from bot.core.services.municipalities import (
    PROVIDER_SETTINGS,
    choose_municipality,
    provider_settings,
)
from bot.core.services.poll_jobs import PollJobs
from bot.outbox.channel import Sender
from bot.outbox.worker import Account, ChannelLimit, OutboxWorker
from bot.runtime.cpu import pin
from bot.runtime.scheduling import Scheduler
from bot.runtime.web import WebContext, build_app
from bot.webui import build_console
from bot.webui.public import Public, build_public
from storage.db import open_database
from storage.migrate import migrate
from storage.models import Municipality
from storage.repos import Repos

log = logging.getLogger(__name__)

#: where the Android phones and an HTTP gateway post residents' SMS and delivery reports
#: (an HTTP gateway's to HTTP_GATEWAY_ROUTE/status/sent, /delivered, /failed)
ANDROID_ROUTE = "/sms/android"
HTTP_GATEWAY_ROUTE = "/sms/http"
#: seconds an Android phone or an HTTP gateway has to answer a send
GATEWAY_TIMEOUT = 30.0

#: how often the scheduler re-reads polls and hearings changed by other processes
RESYNC_SECONDS = 60


def settle() -> None:
    """Once started: what exists now lives as long as the process (modules, the models of
    aiogram and pydantic, templates), so the garbage collector stops walking it. A full
    collection walked all of it: 140-160 ms with every request waiting, the p99 latency
    of ``bench/inbound.py``; now it walks what came since (a few ms)."""
    gc.collect()
    gc.freeze()


def telegram_bot(settings: Settings) -> Bot | None:
    if settings.telegram_bot_token is None:
        return None
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


def twilio_sender(settings: Settings) -> TwilioSender | None:
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return None
    callback = (
        f"{settings.public_base_url.rstrip('/')}/sms/twilio/status"
        if settings.public_base_url
        else None
    )
    return TwilioSender(
        twilio_client(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            settings.twilio_api_url,
        ),
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        status_callback=callback,
    )


@dataclass(frozen=True)
class SmsGateway:
    """The SMS gateway ``SMS_GATEWAY`` chose, as ``run`` wires it: the outbox's sender,
    its limit, and the routes of its webhooks."""

    sender: Sender
    limit: ChannelLimit
    routes: Sequence[web.AbstractRouteDef] = ()
    #: whether it can carry SMS now (``/healthz``); None: whenever configured
    ready: Callable[[], bool] | None = None


async def sms_gateway(
    settings: Settings, events: GatewayEvents, stack: AsyncExitStack
) -> SmsGateway | None:
    """The chosen gateway, open until ``stack`` closes (SMPP: bound, reconnecting in the
    background); None for Twilio without credentials. Its inbound SMS and delivery
    reports go to ``events``."""
    secret = Settings.plain
    if settings.sms_gateway == "twilio":
        twilio = twilio_sender(settings)
        if twilio is None:
            return None
        stack.push_async_callback(twilio.close)
        return SmsGateway(twilio, ChannelLimit(settings.twilio_rate), twilio_webhook.ROUTES)
    if settings.sms_gateway == "smpp":
        smpp = SmppChannel(
            SmppConfig(
                host=settings.smpp_host or "",
                port=settings.smpp_port,
                system_id=settings.smpp_system_id or "",
                password=secret(settings.smpp_password),
                source_addr=settings.smpp_source_addr or "",
                system_type=settings.smpp_system_type,
                window=settings.smpp_window,
                tps=settings.smpp_tps,
                enquire_link_interval=settings.smpp_enquire_link_interval,
                number_parts=settings.sms_number_parts,
                optout_codes=settings.optout_codes,
            ),
            on_event=events,
        )
        smpp.start()
        stack.push_async_callback(smpp.close)
        return SmsGateway(smpp, ChannelLimit(settings.smpp_tps), ready=lambda: smpp.bound)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=GATEWAY_TIMEOUT))
    stack.push_async_callback(session.close)
    if settings.sms_gateway == "android":
        phones = parse_phones(
            secret(settings.android_gateway_phones), settings.android_gateway_per_minute
        )
        keys = secret(settings.android_gateway_signing_keys).split(",")
        # the phones sign with Unix time
        hook = android_webhook(
            [k.strip() for k in keys if k.strip()],
            events,
            clock=time.time,
            optout_codes=settings.optout_codes,
        )
        return SmsGateway(
            AndroidSender(phones, session),
            ChannelLimit(sum(phone.per_minute for phone in phones) / 60),
            (web.post(ANDROID_ROUTE, hook),),
        )
    config = HttpGatewayConfig(
        send_url=settings.http_gateway_send_url or "",
        body_template=settings.http_gateway_body,
        method=settings.http_gateway_method,
        content_type=settings.http_gateway_content_type,
        auth_header=secret(settings.http_gateway_auth_header),
        from_number=settings.http_gateway_from,
        id_path=settings.http_gateway_id_path,
        inbound_secret=secret(settings.http_gateway_inbound_secret),
        optout_codes=settings.optout_codes,
    )
    reports = [
        web.post(f"{HTTP_GATEWAY_ROUTE}/status/{outcome}", http_status(config, outcome, events))
        for outcome in STATUS_OUTCOMES
    ]
    return SmsGateway(
        HttpGatewaySender(config, session),
        ChannelLimit(settings.http_gateway_rate),
        (web.post(HTTP_GATEWAY_ROUTE, http_inbound(config, events)), *reports),
    )


async def national_accounts(
    settings: Settings,
    repos: Repos,
    stack: AsyncExitStack,
    events_for: Callable[[Municipality], GatewayEvents],
) -> list[Account]:
    """The outbox accounts of every municipality with provider settings of its own
    (``civic-bot municipality secret``; the rest from ``settings``): its Telegram bot at
    ``TELEGRAM_RATE`` and its SMS gateway, open until ``stack`` closes; municipalities
    that share a bot or a gateway share its account (and its limit). A secret that does
    not open with ``SECRETS_KEY`` stops it with a :class:`ServiceError` before anything
    is sent."""
    # a municipality's provider settings are its own: none comes from the environment's
    base = settings.model_dump(exclude={name.lower() for name in PROVIDER_SETTINGS})
    accounts: dict[str, Account] = {}

    def add(municipality: Municipality, channel: str, sender: Sender, limit: ChannelLimit) -> None:
        shared = accounts.get(sender.rate_key)
        ids = (shared.municipality_ids if shared else ()) + (municipality.id,)
        accounts[sender.rate_key] = Account(sender.rate_key, channel, sender, limit, ids)

    for municipality in await repos.municipalities.all():
        own = await provider_settings(repos, municipality)
        if not own:
            continue
        try:
            local = load_settings(**{**base, **own})
        except SettingsError as exc:
            raise ServiceError(f"{municipality.slug!r}: {exc}") from None
        bot = telegram_bot(local) if "telegram_bot_token" in own else None
        if bot is not None:
            stack.push_async_callback(bot.session.close)
            add(
                municipality,
                "telegram",
                TelegramSender(bot),
                ChannelLimit(local.telegram_rate, local.telegram_chat_rate),
            )
        if own.keys() & {"sms_gateway", "twilio_auth_token"}:
            sms = await sms_gateway(local, events_for(municipality), stack)
            if sms is not None:
                add(municipality, "sms", sms.sender, sms.limit)
    return list(accounts.values())


def http_app(
    ctx: WebContext, sms_routes: Sequence[web.AbstractRouteDef] = twilio_webhook.ROUTES
) -> web.Application:
    """The webhooks: the health check and each channel's (Telegram's, the SMS gateway's)."""
    return build_app(ctx, (*telegram_webhook.ROUTES, *sms_routes))


def web_app(
    ctx: WebContext,
    settings: Settings,
    sms_routes: Sequence[web.AbstractRouteDef] = twilio_webhook.ROUTES,
    *,
    photos: Callable[[str], Awaitable[bytes | None]] | None = None,
) -> web.Application:
    """The web server's routes: the webhooks (:func:`http_app`), the staff console and the
    public pages (``photos``: Telegram's files, for the monitoring acts' photos on both)."""
    app = http_app(ctx, sms_routes)
    policy = Policy(
        code_minutes=settings.staff_code_minutes,
        code_attempts=settings.staff_code_attempts,
        codes_per_phone_hour=settings.staff_codes_per_phone_hour,
        codes_per_address_hour=settings.staff_codes_per_address_hour,
        idle_minutes=settings.staff_session_idle_minutes,
    )
    secure = (settings.public_base_url or "").startswith("https://")
    console = build_console(
        ctx, policy, settings.checkin_window(), secure=secure,
        small_group_min=settings.small_group_min,
        sms_price=settings.sms_price_per_segment,
        telegram_token=settings.telegram_bot_token.get_secret_value()
        if settings.telegram_bot_token else None,
        photos=photos,
    )  # fmt: skip
    app.add_subapp("/staff/", console)
    public = Public(ctx.repos, ctx.renderer, ctx.clock, settings.small_group_min, photos)
    app.add_subapp("/m/", build_public(public))
    return app


def console_url(settings: Settings) -> str | None:
    """The console's address for the staff's Mini App button: Telegram opens only HTTPS."""
    base = settings.public_base_url or ""
    return base.rstrip("/") + "/staff/" if base.startswith("https://") else None


async def serve(settings: Settings, stop: asyncio.Event, *, clock: Clock | None = None) -> None:
    """Run until ``stop`` is set; then finish the message in hand and shut down cleanly."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        db = await open_database(settings.database_url)
        stack.push_async_callback(db.close)
        await migrate(db)
        repos = Repos(db, settings.ballot_secret)
        await ballot_upgrade.seal_legacy(repos)
        if repos.sealer is None:
            log.warning("BALLOT_KEY is not set: residents are told voting is not available")
        municipality = await choose_municipality(repos, settings.municipality)
        renderer = Renderer(settings.tz)

        twilio = settings.sms_gateway == "twilio"
        ctx = WebContext(
            repos=repos,
            renderer=renderer,
            clock=clock,
            municipality=municipality,
            public_base_url=settings.public_base_url,
            sms_gateway=None if twilio else settings.sms_gateway,
        )
        if twilio and settings.twilio_account_sid and settings.twilio_auth_token:
            twilio_webhook.attach(
                ctx, settings.twilio_auth_token.get_secret_value(), settings.twilio_account_sid
            )
        senders: dict[str, Sender] = {}
        limits: dict[str, ChannelLimit] = {}
        bot = telegram_bot(settings)
        if bot is not None:
            stack.push_async_callback(bot.session.close)
            senders["telegram"] = TelegramSender(bot)
            limits["telegram"] = ChannelLimit(settings.telegram_rate, settings.telegram_chat_rate)
        events = GatewayEvents(ctx)
        sms = await sms_gateway(settings, events, stack)
        if sms is not None:
            senders["sms"] = sms.sender
            limits["sms"] = sms.limit
            ctx.sms_ready = sms.ready
        if not senders:
            log.warning("no Telegram token and no SMS gateway: serving /healthz only")
        else:
            log.info("channels: %s (SMS by %s)", ", ".join(sorted(senders)), settings.sms_gateway)
        tasks: list[asyncio.Task[Any]] = []
        dp, polls = None, False
        if bot is not None:
            dp = build_dispatcher(
                repos=repos,
                renderer=renderer,
                clock=clock,
                municipality=municipality,
                batches=ctx.batches,
                console_url=console_url(settings),
            )
            await set_commands(bot, renderer, default_language=settings.default_language)
            if settings.telegram_webhook_url and settings.telegram_webhook_secret:
                secret = settings.telegram_webhook_secret.get_secret_value()
                telegram_webhook.attach(ctx, dp, bot, secret=secret)
                await bot.set_webhook(
                    settings.telegram_webhook_url,
                    secret_token=secret,
                    allowed_updates=dp.resolve_used_update_types(),
                )
            else:
                telegram_webhook.polling(ctx)
                polls = True
                await bot.delete_webhook()
                tasks.append(
                    asyncio.create_task(
                        dp.start_polling(bot, handle_signals=False, close_bot_session=False)
                    )
                )
        photos = file_fetcher(bot) if bot is not None else None
        runner = web.AppRunner(
            web_app(ctx, settings, sms.routes if sms else twilio_webhook.ROUTES, photos=photos),
            handle_signals=False,
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, settings.http_host, settings.http_port)
        await site.start()
        log.info("listening on http://%s:%s", settings.http_host, settings.http_port)

        # Reminders, poll deadlines and results: derived from the database (its own
        # connection) at start-up, then re-derived every minute so that changes made
        # by another process (the CLI) are picked up; exact timers fire in between.
        scheduler = AsyncIOScheduler(timezone=settings.tz)
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=False)
        jobs_db = await open_database(settings.database_url)
        stack.push_async_callback(jobs_db.close)
        jobs_repos = Repos(jobs_db, settings.ballot_secret)
        jobs = Scheduler(
            [PollJobs(jobs_repos, renderer), HearingJobs(jobs_repos, renderer, settings.tz)],
            clock,
            scheduler,
        )
        await jobs.sync()
        scheduler.add_job(jobs.sync, IntervalTrigger(seconds=RESYNC_SECONDS), id="resync")
        # Telegram forms and drafts nobody came back to: now, then once a day.
        forget_drafts = functools.partial(
            forget_stale, jobs_repos.fsm, municipality, clock, settings.telegram_draft_days
        )
        await forget_drafts()
        scheduler.add_job(forget_drafts, IntervalTrigger(days=1), id="forget-drafts")

        # The worker has its own connection: its transactions never interleave with
        # a request's.
        worker_db = await open_database(settings.database_url)
        stack.push_async_callback(worker_db.close)
        worker = OutboxWorker(
            Repos(worker_db, settings.ballot_secret),
            senders,
            limits,
            municipality_id=municipality.id,
            clock=clock,
        )
        events.queued = worker.wakeup.set
        tasks.append(asyncio.create_task(worker.run(stop)))
        if bot is not None:
            # Live broadcast progress for staff in Telegram: its own connection as well.
            progress_db = await open_database(settings.database_url)
            stack.push_async_callback(progress_db.close)
            editor = ProgressEditor(
                bot,
                Repos(progress_db, settings.ballot_secret),
                renderer,
                municipality_id=municipality.id,
                clock=clock,
            )
            tasks.append(asyncio.create_task(editor.run(stop)))
        settle()
        await stop.wait()
        log.info("stopping: finishing the message in hand")
        if dp is not None and polls:
            await dp.stop_polling()
        await asyncio.gather(*tasks)


def run_forever(settings: Settings) -> None:
    pin(settings.cpu_pin)  # before any thread starts: they all inherit it

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(main())
