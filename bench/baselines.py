"""The two baselines the benchmark measures beside the bot, on the same load.

  python bench/baselines.py stock PORT   # a do-nothing bot on botbuilder's stock CloudAdapter
  python bench/baselines.py bare PORT    # a bare aiohttp JSON handler
"""
from __future__ import annotations

import sys
from types import SimpleNamespace

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


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    app = stock_app() if kind == "stock" else bare_app()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
