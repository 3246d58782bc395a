"""`python -m poll_bot` / `poll-bot`: start the bot's web server."""
from __future__ import annotations

import logging
import os
import sys

from aiohttp import web

from .app import create_app
from .config import Config


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = Config.from_env()
    problem = config.startup_problem()
    if problem:
        print(f"poll-bot will not start: {problem}", file=sys.stderr)
        sys.exit(2)
    web.run_app(create_app(config), host=config.HOST, port=config.PORT, print=None)


if __name__ == "__main__":
    main()
