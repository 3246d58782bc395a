"""`python -m poll_bot` / `poll-bot`: start the bot's web server."""
from __future__ import annotations

import sys

from aiohttp import web

from .app import create_app
from .config import Config
from .logs import configure_logging


def main() -> None:
    configure_logging()
    config = Config.from_env()
    problem = config.startup_problem()
    if problem:
        print(f"poll-bot will not start: {problem}", file=sys.stderr)
        sys.exit(2)
    web.run_app(create_app(config), host=config.HOST, port=config.PORT, print=None)


if __name__ == "__main__":
    main()
