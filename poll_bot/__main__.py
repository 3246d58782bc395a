"""`python -m poll_bot` / `poll-bot`: start the bot's web server."""
from __future__ import annotations

from aiohttp import web

from .app import create_app
from .config import Config
from .logs import configure_logging


def main() -> None:
    configure_logging()
    config = Config.from_env()
    web.run_app(create_app(config), host=config.HOST, port=config.PORT, print=None)


if __name__ == "__main__":
    main()
