"""Inbound authentication with real RS256 tokens, with MicrosoftAppId set: every refusal answers
401 and runs nothing (no database change, no call toward Teams); a valid token runs the turn.

botbuilder checks the tokens against a local OpenID provider with a key generated here; it is
pointed there by its own configuration keys, read from the environment as in production.
"""
from __future__ import annotations

import logging
import re
import time

import jwt
import pytest
from botframework.connector.auth import JwtTokenExtractor

from poll_bot.config import AUTH_ENDPOINTS, Config
from poll_bot.outbound.connector import TokenSource
from tests.support import teams
from tests.support.openid import OpenIdProvider, claims, new_key
from tests.support.teams import MEGAN

APP_ID = "00000000-0000-4000-8000-0000000000b0"
KEY_ID = "teams-key"
WEBCHAT_KEY_ID = "webchat-key"  # the same key, endorsed only for another channel
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
HOUR = 3600


@pytest.fixture(scope="module")
def key():
    return new_key()


@pytest.fixture
def provider(key):
    provider = OpenIdProvider(key, {KEY_ID: ["msteams"], WEBCHAT_KEY_ID: ["webchat"]})
    provider.start()
    yield provider
    provider.stop()
    # botbuilder keeps metadata and keys per URL in a class-level cache; each test has its own URL.
    JwtTokenExtractor.metadataCache.pop(provider.metadata_url, None)


@pytest.fixture
def start_bot(make_bot, provider):
    """The bot with MicrosoftAppId set, configured from the environment variables."""
    async def start(**overrides):
        config = Config.from_env({
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppPassword": "client-secret",
            "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": provider.metadata_url,
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": provider.url,
            # msal takes only https authorities, so getting a token for outbound calls fails at once
            # instead of reaching out to the internet (see test_a_valid_token_runs_the_turn).
            "TO_CHANNEL_FROM_BOT_LOGIN_URL": f"{provider.url}/botframework.com",
            "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
        })
        assert config.startup_problem() is None
        auth = {name: getattr(config, name) for name in ("APP_ID", "APP_PASSWORD", *AUTH_ENDPOINTS)}
        return await make_bot(**auth, **overrides)
    return start


def everything_stored(db) -> dict[str, list[tuple]]:
    return {table: sorted(db.rows(f'SELECT * FROM "{table}"'), key=repr) for table in db.tables()}


def token(provider: OpenIdProvider, service_url: str, kid: str = KEY_ID, key=None, **changes) -> str:
    return provider.sign(claims(provider.url, APP_ID, service_url, **changes), kid, key)


def unsigned(provider: OpenIdProvider, service_url: str) -> str:
    return jwt.encode(claims(provider.url, APP_ID, service_url), None, algorithm="none", headers={"kid": KEY_ID})


# Each case: how to build its Authorization header, and what the log gives as the reason.
BAD_HEADERS = {
    "missing header": (lambda p, url: None, "PermissionError"),
    "wrong scheme": (lambda p, url: f"Basic {token(p, url)}", "not a Bearer token"),
    "malformed token": (lambda p, url: "Bearer not.a.jwt", "DecodeError"),
    "expired": (lambda p, url: f"Bearer {token(p, url, exp=int(time.time()) - HOUR)}", "ExpiredSignatureError"),
    "not yet valid": (lambda p, url: f"Bearer {token(p, url, nbf=int(time.time()) + HOUR)}",
                      "ImmatureSignatureError"),
    "wrong audience": (lambda p, url: f"Bearer {token(p, url, aud='another-bot')}", "Invalid AppId"),
    "wrong issuer": (lambda p, url: f"Bearer {token(p, url, iss='https://issuer.example.com')}",
                     "issuer 'https://issuer.example.com'"),
    # botbuilder would check this one on its Emulator path, which skips the serviceurl check.
    "an Emulator issuer": (lambda p, url: f"Bearer {token(p, url, iss=EMULATOR_ISSUER, appid=APP_ID, ver='1.0')}",
                           f"issuer {EMULATOR_ISSUER!r}"),
    "no issuer": (lambda p, url: f"Bearer {token(p, url, iss=None)}", "issuer None"),
    "bad signature": (lambda p, url: f"Bearer {token(p, url, key=new_key())}", "InvalidSignatureError"),
    "unknown key id": (lambda p, url: f"Bearer {token(p, url, kid='rotated-away')}", "IndexError"),
    "alg none": (lambda p, url: f"Bearer {unsigned(p, url)}", "algorithm not in allowed list"),
    "key not endorsed for msteams": (lambda p, url: f"Bearer {token(p, url, kid=WEBCHAT_KEY_ID)}",
                                     "endorsement"),
    "serviceurl claim differs": (lambda p, url: f"Bearer {token(p, 'https://smba.trafficmanager.net/amer/')}",
                                 "'serviceurl' claim"),
}


@pytest.mark.parametrize("case", BAD_HEADERS)
async def test_a_refused_token_answers_401_and_runs_nothing(start_bot, provider, caplog, case):
    make_header, reason = BAD_HEADERS[case]
    bot = await start_bot()
    chat = teams.personal_chat()
    activity = teams.message(chat, MEGAN, "poll Lunch? | Pizza | Sushi", bot.connector.url)
    header = make_header(provider, bot.connector.url)
    before = everything_stored(bot.db)

    headers = {"Authorization": header} if header is not None else {}
    with caplog.at_level(logging.WARNING, logger="poll_bot"):
        async with bot.session.post(bot.url, json=activity, headers=headers) as response:
            assert response.status == 401, await response.text()
            assert response.headers["WWW-Authenticate"] == "Bearer"
    await bot.settle()

    # Every call toward Teams goes through the outbox, which is part of what is compared here.
    assert everything_stored(bot.db) == before
    assert bot.connector.calls == []
    (refusal,) = [r.getMessage() for r in caplog.records if "failed authentication" in r.getMessage()]
    assert reason in refusal


async def test_a_valid_token_runs_the_turn(start_bot, provider):
    """The poll is stored and its card queued. Delivering the card needs a token from the login URL,
    which cannot be faked here (msal takes only https and asks login.microsoftonline.com about any
    authority it does not know), so the check stops at what the inbound side did."""
    bot = await start_bot(RETRY_BASE_DELAY=HOUR)  # the failed first attempt waits (up to 30 s), the card stays queued
    chat = teams.personal_chat()
    activity = teams.message(chat, MEGAN, "poll Lunch? | Pizza | Sushi", bot.connector.url)
    headers = {"Authorization": f"Bearer {token(provider, bot.connector.url)}"}

    async with bot.session.post(bot.url, json=activity, headers=headers) as response:
        assert response.status == 200, await response.text()

    assert bot.rows("SELECT question FROM polls") == [("Lunch?",)]
    assert bot.rows("SELECT conversation_id, kind FROM outbox ORDER BY id") == [
        (chat.id, "send_card"), (chat.id, "send_message")]  # the poll's quick replies follow the card
    assert provider.requests == ["/.well-known/openid-configuration", "/keys"]


async def test_outbound_tokens_are_asked_of_the_configured_login_url():
    """The same login URL botbuilder uses, not the public cloud's; msal refuses this one as it is not https."""
    login_url = "http://127.0.0.1:9/botframework.com"
    config = Config(APP_ID=APP_ID, APP_PASSWORD="client-secret", TO_CHANNEL_FROM_BOT_LOGIN_URL=login_url,
                    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE="https://api.botframework.com")
    with pytest.raises(ValueError, match=re.escape(login_url)):
        await TokenSource(config).header()
