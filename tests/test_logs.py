"""Logs: LOG_FORMAT=json gives one JSON object per line carrying the turn's ids, and no token
or secret reaches any log line, from any logger, at DEBUG."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import aiohttp
import pytest

from poll_bot.features import polls
from poll_bot.logs import configure_logging
from poll_bot.store import Store
from poll_bot.store.models import Conversation
from tests.support import cards, teams
from tests.support.bot_process import until_healthy
from tests.support.fake_connector import error_response
from tests.support.net import free_port
from tests.support.teams import ALEX, MEGAN, PAT

PASSWORD = "s3cr3t~Pa55+wo/rd="  # URL-encodes differently, as secrets in form bodies are
# A well-formed JWT (header.payload.signature) addressed to the app id below, and an opaque token.
APP_ID = "11111111-2222-3333-4444-555555555555"
JWT = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InRlc3Qta2V5In0"
       ".eyJpc3MiOiJodHRwczovL2FwaS5ib3RmcmFtZXdvcmsuY29tIiwiYXVkIjoiMTExMTExMTEtMjIyMi0zMzMzLTQ0NDQtNTU1NTU1NTU1NTU1In0"
       ".c2lnbmF0dXJlLW9mLXRoZS10ZXN0LXRva2Vu")
OPAQUE = "opaque-access-token-0123456789abcdef"
SECRETS = (PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD), JWT, JWT.rsplit(".", 1)[1], OPAQUE)


@contextmanager
def logging_configured(env: dict[str, str]):
    """configure_logging for the length of a test, then the root logger as pytest had it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(env)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def json_lines(text: str) -> list[dict]:
    lines = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
        datetime.fromisoformat(line["time"])
    return lines


async def test_json_lines_carry_the_turn_ids_and_put_a_traceback_on_the_same_line(make_bot, capsys, monkeypatch):
    chat = teams.group_chat()
    with logging_configured({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}):
        bot = await make_bot()
        await bot.say(chat, MEGAN, "poll Lunch? | Pizza | Sushi")
        card_id = bot.connector.calls_of("POST")[-1].activity_id
        forged = teams.submit(chat, ALEX, {"v": 1, "verb": "poll.nope"}, card_id, bot.connector.url)
        assert await bot.post(forged) == 200
        failed_once = iter([error_response(503, "ServiceUnavailable")])
        bot.connector.fault = lambda call: next(failed_once, None)
        await bot.press(chat, ALEX, card_id, cards.vote_buttons(bot.connector.card(chat.id, card_id))["Pizza"])

        def vote_then_fail(uow, turn, pressed):
            raise RuntimeError("disk on fire")
        monkeypatch.setattr(polls, "_vote", vote_then_fail)
        failing = teams.submit(chat, PAT, cards.vote_buttons(bot.connector.card(chat.id, card_id))["Sushi"], card_id,
                               bot.connector.url)
        assert await bot.post(failing) == 200
        await bot.settle()
    lines = json_lines(capsys.readouterr().err)

    (ready,) = [line for line in lines if line["message"].startswith("poll bot ready")]
    assert "activity_id" not in ready and "conversation_id" not in ready, "outside a turn: no ids"
    (rejected,) = [line for line in lines if line["message"].startswith("rejected card payload")]
    assert (rejected["level"], rejected["logger"]) == ("WARNING", "poll_bot.router")
    assert (rejected["activity_id"], rejected["conversation_id"]) == (forged["id"], chat.id)
    (retried,) = [line for line in lines if "got 503; retry" in line["message"]]
    assert retried["conversation_id"] == chat.id and "activity_id" not in retried, "a lane outlives its turn"
    (failed,) = [line for line in lines if line["message"].startswith("turn failed")]
    assert (failed["level"], failed["activity_id"], failed["conversation_id"]) == ("ERROR", failing["id"], chat.id)
    assert failed["exception"].startswith("Traceback") and "RuntimeError: disk on fire" in failed["exception"]


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_every_logger_has_tokens_and_the_app_password_redacted(capsys, log_format):
    with logging_configured({"LOG_FORMAT": log_format, "LOG_LEVEL": "DEBUG", "MicrosoftAppPassword": PASSWORD}):
        logging.getLogger("aiohttp.access").info('GET / "Authorization: Bearer %s"', JWT)
        logging.getLogger("botbuilder").debug("headers %r", {"Authorization": f"Bearer {OPAQUE}"})
        logging.getLogger("msal").debug("body client_secret=%s&grant_type=client_credentials", quote_plus(PASSWORD))
        logging.getLogger("urllib3.connectionpool").debug("secret %s in a path /%s", PASSWORD, quote(PASSWORD, safe=""))
        try:
            raise ValueError(f"token {JWT} refused")
        except ValueError:
            logging.getLogger("poll_bot").exception("while using %s", PASSWORD)
    output = capsys.readouterr().err

    assert not [secret for secret in SECRETS if secret in output]
    assert output.count("[redacted]") == 7 and "grant_type=client_credentials" in output and "refused" in output
    if log_format == "json":
        # Counted for the loggers written to here: a leftover of an earlier test may log too (asyncio).
        written = {"aiohttp.access", "botbuilder", "msal", "urllib3.connectionpool", "poll_bot"}
        lines = [line for line in json_lines(output) if line["logger"] in written]
        assert len(lines) == 5, "one line each, the traceback inside its line"


async def seed_outbound_work(db: Path, service_url: str) -> None:
    """A queued message, so the bot asks for a token with its app password as soon as it starts."""
    store = await Store.open(str(db), "", b"test secret")
    chat = Conversation(id="a:1personal-chat", conversation_type="personal", tenant_id=teams.TENANT,
                        service_url=service_url, bot_id=teams.BOT["id"])
    await store.run(lambda uow: uow.conversations.upsert(chat, True))
    await store.run(lambda uow: uow.outbox.enqueue(chat.id, "send_message", body={"type": "message", "text": "hi"}))
    await store.close()


@pytest.mark.parametrize("log_format", ["plain", "json"])
async def test_a_running_bot_logs_no_token_or_password_at_debug(tmp_path, connector, log_format):
    db, port, log_file = tmp_path / "bot.sqlite3", free_port(), tmp_path / "bot.log"
    await seed_outbound_work(db, connector.url)
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "POLL_BOT_DB": str(db), "LOG_LEVEL": "DEBUG",
           "LOG_FORMAT": log_format, "MicrosoftAppId": APP_ID, "MicrosoftAppPassword": PASSWORD,
           "POLL_BOT_RETRY_BASE_DELAY": "0.01"}
    with log_file.open("wb") as output:
        bot = subprocess.Popen([sys.executable, "-m", "poll_bot"], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        assert await until_healthy(port, bot), "the bot did not start"
        chat = teams.personal_chat()
        async with aiohttp.ClientSession() as session:
            for token in (JWT, OPAQUE):
                activity = teams.message(chat, MEGAN, "poll Lunch? | Pizza | Sushi", connector.url)
                async with session.post(f"http://127.0.0.1:{port}/api/messages", json=activity,
                                        headers={"Authorization": f"Bearer {token}"}) as response:
                    assert response.status != 200, "a token botbuilder cannot validate is refused"
        for _ in range(400):  # until the queued message has been tried (the token request fails or is refused)
            if bot_rows(db, "SELECT attempts FROM outbox") != [(0,)]:
                break
            await asyncio.sleep(0.05)
        assert bot_rows(db, "SELECT COUNT(*) FROM polls") == [(0,)]
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=20)
    logged = log_file.read_text()

    assert not [secret for secret in SECRETS if secret in logged]
    for sign_of_debug in ("urllib3.connectionpool", "aiohttp.access", "POST /api/messages", "outbox job"):
        assert sign_of_debug in logged, f"expected {sign_of_debug!r} in the DEBUG output"
    if log_format == "json":
        json_lines(logged)


def bot_rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_an_unknown_log_format_stops_the_bot_at_startup():
    with pytest.raises(ValueError, match="LOG_FORMAT must be 'plain' or 'json', not 'xml'"):
        configure_logging({"LOG_FORMAT": "xml"})
