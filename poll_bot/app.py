"""The aiohttp application: /api/messages through botbuilder's CloudAdapter, /healthz and /metrics."""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator, Callable, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import AuthenticationConstants
from .activity import ActivityError, activity_from_json, parse_body
from .adapter import AuthenticationFailed, PollBotAdapter
from .bot import PollBot, conversation_of
from . import cards, i18n
from .config import Config
from .domain.polls import SHORTEST as SHORTEST_CLOSING
from .i18n import N_, _
from .signing import ExportLinks, server_secret
from .features import CARD_RENDERERS, FOLLOWUPS, VIEWS_RENDERERS, approvals, build_router, export, polls, retention
from .metrics import CONTENT_TYPE, Metrics
from .outbound.connector import Connector, TokenSource
from .outbound.limits import Budget
from .outbound.pipeline import Pipeline
from .outbound.retry import RetryPolicy
from .store import Store, UnitOfWork
from .turn import text_message

log = logging.getLogger(__name__)
T = TypeVar("T")

STORE = web.AppKey("store", Store)
PIPELINE = web.AppKey("pipeline", Pipeline)
ADAPTER = web.AppKey("adapter", PollBotAdapter)
BOT = web.AppKey("bot", PollBot)
LINKS = web.AppKey("links", ExportLinks)
METRICS = web.AppKey("metrics", Metrics)
DATABASE_ANSWER_SECONDS = 2.0  # /healthz and /metrics never wait longer for the database
SORRY = N_("Sorry, something went wrong on my side, so nothing was changed. Please try again.")
MAX_ID_CHARS = 1000  # Teams' ids have a few hundred at most; the conversation's goes into every reply's URL


def create_app(config: Config, clock: Callable[[], float] = time.time) -> web.Application:
    """`clock`: seconds since the epoch, for outbound delivery (leases, budgets, retries)."""
    app = web.Application(middlewares=[_timed])
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_services(config, app[METRICS], clock))
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/export/{token}", _export)
    return app


def _services(config: Config, metrics: Metrics, clock: Callable[[], float]):
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if config.local_development:
            log.warning("MicrosoftAppId is empty: local development mode, inbound requests are NOT authenticated")
        # Closed in reverse order, also when startup fails or a signal cancels it: an open
        # database keeps aiosqlite's thread, and with it the process, alive.
        async with AsyncExitStack() as closing:
            secret = server_secret(config.SECRET, Path(config.DB_PATH).parent)
            app[LINKS] = ExportLinks(secret, config.PUBLIC_URL or f"http://{config.HOST}:{config.PORT}")
            cards.compile_templates()
            i18n.load_number_formats()
            store = await Store.open(config.DB_PATH, config.DATABASE_URL, secret)
            closing.push_async_callback(store.close)
            store.on_commit(metrics.committed)
            session = await closing.enter_async_context(aiohttp.ClientSession())
            budget = Budget(config.THREAD_LIMITS, config.TENANT_LIMITS)
            pipeline = Pipeline(
                store, Connector(session, TokenSource(config), metrics), CARD_RENDERERS, budget,
                RetryPolicy(config.RETRY_ATTEMPTS, config.RETRY_BASE_DELAY, gcc_service_url=config.GCC_SERVICE_URL),
                clock=clock, followups=FOLLOWUPS,
            )
            closing.push_async_callback(pipeline.stop)
            metrics.count_lanes(pipeline.lane_count)
            adapter = PollBotAdapter(
                ConfigurationBotFrameworkAuthentication(config),
                config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            )
            adapter.on_turn_error = _turn_error_handler(store)
            app[STORE], app[PIPELINE] = store, pipeline
            app[ADAPTER], app[BOT] = adapter, PollBot(store, build_router(), metrics, VIEWS_RENDERERS,
                                                 app[LINKS], config.DOUBLE_PRESS_SECONDS)
            await pipeline.start()
            timers = Timers(store, config, clock)
            await timers.tick()  # catch up on what fell due while the bot was down
            background = [asyncio.create_task(_prune_forever(store, budget)), asyncio.create_task(timers.run())]
            closing.push_async_callback(_cancel, background)
            app[TIMERS] = timers
            log.info("poll bot ready, database %s", store.name)
            yield
    return lifecycle


async def _cancel(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@web.middleware
async def _timed(request: web.Request, handler) -> web.StreamResponse:
    """Observe how long POST /api/messages takes to answer, whatever the answer."""
    if request.path != "/api/messages":
        return await handler(request)
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        request.app[METRICS].messages_answered(time.perf_counter() - started)


async def _messages(request: web.Request) -> web.StreamResponse:
    """What CloudAdapter.process does, with the body parsed once and checked first."""
    if "application/json" not in request.headers.get("Content-Type", ""):
        return web.json_response({"error": "expected application/json"}, status=415)
    try:
        body = parse_body(await request.read())
        problem = _shape_problem(body)
        activity = None if problem else activity_from_json(body)
    except ActivityError as error:
        problem = str(error)
    if problem:
        # Refused before botbuilder sees it, so nothing is stored or sent.
        log.warning("rejected malformed activity: %s", problem)
        return web.json_response({"error": f"malformed activity: {problem}"}, status=400)
    try:
        invoke_response = await request.app[ADAPTER].process_activity(
            request.headers.get("Authorization", ""), activity, request.app[BOT].on_turn
        )
    except AuthenticationFailed as refusal:
        log.warning("refused a request that failed authentication: %s", refusal)
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
    if invoke_response:
        body = invoke_response.body  # our own answers are plain dicts or JSON; botbuilder's are msrest models
        if isinstance(body, bytes):
            return web.Response(body=body, status=invoke_response.status, content_type="application/json")
        return web.json_response(body if isinstance(body, dict) else serializer_helper(body),
                                 status=invoke_response.status)
    return web.Response(status=200)  # for every activity, known or not (seed 004)


def _shape_problem(activity: object) -> str | None:
    if not isinstance(activity, dict):
        return "not an object"
    if not isinstance(activity.get("type"), str):
        return "no type"
    if not _is_web_address(activity.get("serviceUrl")):
        return "no serviceUrl"
    for key in ("conversation", "from"):
        account = activity.get(key)
        if not isinstance(account, dict) or not isinstance(account.get("id"), str) or not account["id"]:
            return f"no {key}.id"
        if len(account["id"]) > MAX_ID_CHARS:
            return f"{key}.id is too long"
    if activity["conversation"]["id"].strip(".") == "":
        return "conversation.id is a dot segment"  # it would address another path of the service URL
    return None


def _is_web_address(value: object) -> bool:
    """An absolute http(s) URL in printable ASCII, with a host and a usable port: every reply goes there."""
    if not isinstance(value, str) or not value.isascii() or not value.isprintable() or " " in value:
        return False
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port out of range, or a malformed IPv6 host
        return False


async def _healthz(request: web.Request) -> web.Response:
    try:
        pending = await _ask_database(request.app[STORE], lambda uow: uow.outbox.pending_count())
    except DatabaseUnavailable as error:
        return web.json_response({"status": "unavailable", "reason": str(error)}, status=503)
    return web.json_response({"status": "ok", "pending_outbound": pending})


async def _export(request: web.Request) -> web.Response:
    """A poll's results as CSV, for a genuine link that has not expired; otherwise nothing (404)."""
    poll_id = request.app[LINKS].poll_of(request.match_info["token"])
    with i18n.using(i18n.first_spoken(request.headers.get("Accept-Language", ""))):  # the browser's language
        table = await request.app[STORE].run(export.results_csv, poll_id) if poll_id is not None else None
    if table is None:
        raise web.HTTPNotFound()
    return web.Response(body=table.encode("utf-8"), headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="poll-{poll_id}-results.csv"'})


async def _metrics(request: web.Request) -> web.Response:
    now = datetime.now(timezone.utc)
    try:
        outbox = await _ask_database(request.app[STORE], lambda uow: uow.outbox.stats(now))
    except DatabaseUnavailable:
        outbox = None  # the counters still go out; the outbox gauges are left out rather than stale
    return web.Response(body=request.app[METRICS].render(outbox), headers={"Content-Type": CONTENT_TYPE})


class DatabaseUnavailable(Exception):
    """The database did not answer a transaction within DATABASE_ANSWER_SECONDS, or failed it."""


async def _ask_database(store: Store, work: Callable[[UnitOfWork], T]) -> T:
    """One transaction, bounded: a lock held elsewhere or a stuck database thread must not hang the caller."""
    try:
        return await asyncio.wait_for(store.run(work), DATABASE_ANSWER_SECONDS)
    except TimeoutError:
        problem = f"the database did not answer within {DATABASE_ANSWER_SECONDS:g} s"
    except store.errors as error:
        problem = f"the database failed: {error}"
    log.warning("database check: %s", problem)
    raise DatabaseUnavailable(problem)


def alone(key: str, work: Callable[..., T]) -> Callable[..., T | None]:
    """`work` as a unit of work that does nothing (None) while another instance runs it: every
    instance ticks, and one does the work. What it changes it changes conditionally too (only a
    pending request expires), so a tick that runs after another finds nothing left to do."""
    def unit(uow: UnitOfWork, *args):
        return work(uow, *args) if uow.try_lock(key) else None
    return unit


class Timers:
    """Polls' closing times, due dates, reminders and retention: checked every TIMER_SECONDS,
    and once at startup."""

    def __init__(self, store: Store, config: Config, clock: Callable[[], float]):
        self._store = store
        self._config = config
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), timezone.utc)

    async def tick(self, now: datetime | None = None) -> None:
        now = now or self._now()
        reminder_after = timedelta(seconds=self._config.APPROVAL_REMINDER_SECONDS)
        while await self._store.run(alone("polls", polls.close_due), now):
            pass  # a batch per transaction
        await self._store.run(alone("approvals", approvals.tick), now, reminder_after)
        if self._config.RETENTION_DAYS:
            before = (now - timedelta(days=self._config.RETENTION_DAYS)).isoformat(timespec="milliseconds")
            while await self._store.run(alone("retention", retention.forget_finished), before):
                pass  # a batch per transaction, so turns are not held up behind a long delete

    async def run(self) -> None:
        while True:
            try:
                await asyncio.sleep(await self.pause(self._now()))
                await self.tick()
            except Exception:
                log.exception("timer tick failed; will try again")
                await asyncio.sleep(self._config.TIMER_SECONDS)

    async def pause(self, now: datetime) -> float:
        """Seconds until the next tick: TIMER_SECONDS, or less when a poll closes sooner, so that it
        closes on time (a second after at most). Never longer than the shortest closing time: a poll
        made during the pause (here or on another instance) closes no sooner than that."""
        longest = min(self._config.TIMER_SECONDS, SHORTEST_CLOSING.total_seconds())
        closing = await self._store.run(lambda uow: uow.polls.next_closing())
        if closing is None:
            return longest
        return min(longest, max((datetime.fromisoformat(closing) - now).total_seconds(), 1.0))


TIMERS = web.AppKey("timers", Timers)


async def _prune_forever(store: Store, budget: Budget, every: float = 3600.0) -> None:
    """Forget handled activity ids after a week, button presses after an hour, the texts the
    bot sent (kept to know what a reaction was to) after 30 days, and calls to Teams once no
    rate budget counts them any more."""
    while True:
        now = datetime.now(timezone.utc)
        week_ago = (now - timedelta(days=7)).isoformat(timespec="milliseconds")
        month_ago = (now - timedelta(days=30)).isoformat(timespec="milliseconds")
        try:
            await store.run(alone("housekeeping", _prune), week_ago, time.time() - 3600, month_ago,
                            time.time() - budget.longest)
        except Exception:
            log.exception("housekeeping failed; will try again")
        await asyncio.sleep(every)


def _prune(uow, activities_before: str, presses_before: float, sent_before: str, calls_before: float) -> None:
    uow.activities.prune(activities_before, presses_before)
    uow.messages.prune_sent(sent_before)
    uow.budget.prune(calls_before)


def _turn_error_handler(store: Store):
    async def on_error(turn_context: TurnContext, error: Exception) -> None:
        activity = turn_context.activity
        log.error("turn failed for activity %s", activity.id, exc_info=error)
        if activity.conversation is None or activity.conversation.conversation_type not in (None, "personal"):
            return  # never post errors into shared conversations
        conversation_id = conversation_of(activity).id
        with i18n.using(activity.locale):  # the turn's own language ended with it
            sorry = text_message(_(SORRY))
        await store.run(lambda uow: uow.outbox.enqueue(conversation_id, "send_message", body=sorry))
    return on_error
