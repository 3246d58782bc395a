"""Serving the bot, and stopping it within POLL_BOT_SHUTDOWN_SECONDS.

On the first SIGTERM or SIGINT one deadline is set, and every step below ends by it:

1. no new turns: the listener closes, and a request still arriving on an open
   connection gets 503 with Retry-After;
2. the turns in flight finish (one still running when delivery time is up is
   cancelled without an answer; a redelivery of a handled activity counts once);
3. the outbound pipeline delivers what it can in the time left (what this
   instance queued: another instance's work is left to it);
4. the app's cleanup cancels the rest (claimed jobs go back to the outbox, sent
   after the restart), stops the timers and closes the HTTP session and the database.

A thread that cannot be interrupted (a DNS lookup or a token request that hangs)
must not hold the process past the deadline, so a watchdog ends it then.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import math
import os
import signal
import threading
from contextlib import suppress
from typing import Awaitable

from aiohttp import web

from .app import PIPELINE, STORE, create_app
from .config import Config

log = logging.getLogger(__name__)

# Kept out of the delivery time for closing: a fifth of the budget, at most this.
CLOSING_SECONDS = 1.0


async def serve(config: Config) -> None:
    """Run the bot until SIGTERM or SIGINT, then stop within config.SHUTDOWN_SECONDS."""
    loop = asyncio.get_running_loop()
    finished = threading.Event()
    stopping: asyncio.Future[float] = loop.create_future()  # resolves to the deadline
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _on_signal, signum, stopping, config.SHUTDOWN_SECONDS, finished)
    intake = Intake(retry_after=config.SHUTDOWN_SECONDS)
    app = create_app(config)
    app.middlewares.append(intake.middleware)
    # Nothing is in flight any more when aiohttp's own shutdown runs: this only bounds it.
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    try:
        if await _unless_stopped(runner.setup(), stopping):
            await web.TCPSite(runner, config.HOST, config.PORT).start()
            _freeze_startup_objects()
            log.info("listening on http://%s:%d", config.HOST, config.PORT)
            await _wind_down(runner, intake, await stopping)
    finally:
        await runner.cleanup()
        finished.set()


def _freeze_startup_objects() -> None:
    """Keep the garbage collector out of what startup made (modules, templates, catalogs), which
    lives as long as the process: its full collections walked all of it, stalling every request
    in flight for 30 to 50 ms."""
    gc.collect()
    gc.freeze()


def _on_signal(signum: int, stopping: asyncio.Future, seconds: float, finished: threading.Event) -> None:
    if stopping.done():
        log.info("%s: already stopping", signal.Signals(signum).name)
        return
    log.info("%s: stopping within %g s", signal.Signals(signum).name, seconds)
    stopping.set_result(asyncio.get_running_loop().time() + seconds)
    watchdog = threading.Timer(seconds, _exit_now, (seconds, finished))
    watchdog.daemon = True
    watchdog.start()


def _exit_now(seconds: float, finished: threading.Event) -> None:
    """The deadline passed and the process is still here."""
    if finished.is_set():
        log.warning("stopped, but a thread is still running at the deadline; exiting")
    else:
        log.error("shutdown did not finish within %g s; exiting (acknowledged work is committed)", seconds)
    logging.shutdown()
    os._exit(0 if finished.is_set() else 1)


async def _unless_stopped(startup: Awaitable[None], stopping: asyncio.Future) -> bool:
    """Run the startup; a signal meanwhile cancels it (the app's cleanup closes what it opened).
    True if the bot started."""
    started = asyncio.ensure_future(startup)
    await asyncio.wait([started, stopping], return_when=asyncio.FIRST_COMPLETED)
    if started.done():
        started.result()
        return True
    started.cancel()
    with suppress(asyncio.CancelledError):
        await started
    return False


async def _wind_down(runner: web.AppRunner, intake: "Intake", deadline: float) -> None:
    loop = asyncio.get_running_loop()
    delivery_ends = deadline - min(CLOSING_SECONDS, (deadline - loop.time()) / 5)
    intake.close()
    runner.app[PIPELINE].stop_watching()
    for site in list(runner.sites):
        await site.stop()
    await intake.finish(delivery_ends)
    app = runner.app
    try:
        async with asyncio.timeout_at(delivery_ends):
            await app[PIPELINE].wait_idle()
    except TimeoutError:
        pending = await app[STORE].run(lambda uow: uow.outbox.pending_count())
        log.warning("out of time: %d outbound jobs stay in the outbox for the next start", pending)


class Intake:
    """The requests in flight, and whether new turns are still taken."""

    def __init__(self, retry_after: float):
        self._retry_after = str(max(1, math.ceil(retry_after)))
        self._open = True
        self._requests: set[asyncio.Task] = set()

    @web.middleware
    async def middleware(self, request: web.Request, handler) -> web.StreamResponse:
        if not self._open and request.path == "/api/messages":
            return web.json_response({"error": "the bot is stopping"}, status=503,
                                     headers={"Retry-After": self._retry_after})
        task = asyncio.current_task()
        self._requests.add(task)
        try:
            return await handler(request)
        finally:
            self._requests.discard(task)

    def close(self) -> None:
        self._open = False

    async def finish(self, deadline: float) -> None:
        """Let the requests in flight finish; cancel any still running at the deadline."""
        if not self._requests:
            return
        timeout = max(0.0, deadline - asyncio.get_running_loop().time())
        _, late = await asyncio.wait(set(self._requests), timeout=timeout)
        for task in late:
            task.cancel()
        if late:
            log.warning("cancelled %d requests still running at the deadline", len(late))
            await asyncio.wait(late)
