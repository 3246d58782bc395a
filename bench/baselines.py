"""The baselines the benchmark measures beside the bot, on the same load.

  python bench/baselines.py stock PORT        # a do-nothing bot on botbuilder's stock CloudAdapter
  python bench/baselines.py bare PORT         # a bare aiohttp JSON handler
  python bench/baselines.py floor PORT DB     # the durable floor: each vote committed to SQLite, then 200
"""
from __future__ import annotations

import sys
from types import SimpleNamespace

import aiosqlite
from aiohttp import web
from botbuilder.core import ActivityHandler
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication


def stock_app() -> web.Application:
    config = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
    bot = ActivityHandler()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


def bare_app() -> web.Application:
    async def messages(request: web.Request) -> web.Response:
        await request.json()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


def floor_app(path: str) -> web.Application:
    """The least a durable vote costs: parse, commit one row to SQLite (WAL, synchronous=FULL,
    INSERT OR IGNORE) through aiosqlite, answer once committed."""
    async def open_database(app: web.Application):
        db = await aiosqlite.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL"):
            await db.execute(f"PRAGMA {pragma}")
        await db.execute("CREATE TABLE IF NOT EXISTS votes (user_id TEXT, poll INTEGER, option INTEGER, "
                         "PRIMARY KEY (poll, user_id))")
        app[DB] = db
        yield
        await db.close()

    async def messages(request: web.Request) -> web.Response:
        body = await request.json()
        data = body["value"]
        await request.app[DB].execute("INSERT OR IGNORE INTO votes VALUES (?, ?, ?)",
                                      (body["from"]["id"], data["poll"], data["option"]))
        return web.json_response({})

    app = web.Application()
    app.cleanup_ctx.append(open_database)
    app.router.add_post("/api/messages", messages)
    return app


DB = web.AppKey("db", aiosqlite.Connection)

if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    app = {"stock": stock_app, "bare": bare_app}[kind]() if kind != "floor" else floor_app(sys.argv[3])
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
