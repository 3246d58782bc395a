"""The bot as a real process (`python -m poll_bot`), for crash, shutdown and backup tests."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import aiohttp

POLL_BOT = Path(sys.executable).parent / "poll-bot"  # the console script of this environment


def bot_env(db, port: int, **overrides: str) -> dict[str, str]:
    """`db`: a SQLite file's path, or a test database of tests.support.databases (either backend)."""
    database = db.env() if hasattr(db, "env") else {"POLL_BOT_DB": str(db)}
    return {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **database, "LOG_LEVEL": "WARNING",
            "POLL_BOT_DOUBLE_PRESS_SECONDS": "0", **overrides}


async def start_bot(db, port: int, stderr: IO | None = None, **overrides: str) -> subprocess.Popen:
    """Start the bot and wait until /healthz answers."""
    process = subprocess.Popen([sys.executable, "-m", "poll_bot"], env=bot_env(db, port, **overrides), stderr=stderr)
    if await until_healthy(port, process):
        return process
    process.kill()
    process.wait()
    raise TimeoutError("the bot did not start")


async def until_healthy(port: int, process: subprocess.Popen | None = None) -> bool:
    """Whether GET /healthz on the port answers 200 within about 10 s (False at once if `process` ends)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            if process is not None and process.poll() is not None:
                return False
            await asyncio.sleep(0.05)
    return False
