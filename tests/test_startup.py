"""Safe startup defaults: no unauthenticated bot open to the network, no app id without a secret."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import aiohttp
import pytest

from poll_bot.config import Config
from tests.support.net import free_port

SETTINGS = ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType", "MicrosoftAppTenantId",
            "POLL_BOT_ALLOW_UNAUTHENTICATED", "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
            "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER", "TO_CHANNEL_FROM_BOT_LOGIN_URL", "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE")
ENDPOINTS = {"TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": "https://keys.example.com/.well-known/openid-configuration",
             "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": "https://issuer.example.com",
             "TO_CHANNEL_FROM_BOT_LOGIN_URL": "https://login.example.com/botframework.com",
             "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.example.com"}
APP = {"MicrosoftAppId": "00000000-0000-4000-8000-0000000000b0", "MicrosoftAppPassword": "client-secret"}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "::1", "localhost", "LOCALHOST"])
def test_without_an_app_id_the_bot_may_listen_on_loopback(host):
    assert Config.from_env({"HOST": host}).startup_problem() is None


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "10.1.2.3", "bot.example.com"])
def test_without_an_app_id_the_bot_refuses_any_other_address(host):
    problem = Config.from_env({"HOST": host}).startup_problem()
    assert f"HOST={host!r} is not a loopback address" in problem
    assert "Set MicrosoftAppId and MicrosoftAppPassword" in problem and "POLL_BOT_ALLOW_UNAUTHENTICATED=1" in problem


@pytest.mark.parametrize("value, allowed", [("1", True), ("0", False), ("", False), ("true", False)])
def test_only_allow_unauthenticated_1_opens_it_up(value, allowed):
    config = Config.from_env({"HOST": "0.0.0.0", "POLL_BOT_ALLOW_UNAUTHENTICATED": value})
    assert (config.startup_problem() is None) == allowed


@pytest.mark.parametrize("env, expected", [
    ({**APP, "HOST": "0.0.0.0"}, None),
    ({"MicrosoftAppId": APP["MicrosoftAppId"]}, "MicrosoftAppPassword is empty"),
    ({"MicrosoftAppId": APP["MicrosoftAppId"], "MicrosoftAppType": "SingleTenant",
      "MicrosoftAppTenantId": "tenant"}, "MicrosoftAppPassword is empty"),
    ({"MicrosoftAppId": APP["MicrosoftAppId"], "MicrosoftAppType": "UserAssignedMSI",
      "MicrosoftAppTenantId": "tenant"}, None),
    ({"MicrosoftAppId": APP["MicrosoftAppId"], "MicrosoftAppType": "userassignedmsi"},
     "MicrosoftAppType=userassignedmsi needs MicrosoftAppTenantId"),
    ({**APP, "MicrosoftAppType": "SingleTenant"}, "MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId"),
    ({**APP, "MicrosoftAppType": "SingleTennant"}, "MicrosoftAppType='SingleTennant' is not one of"),
    ({**APP, **ENDPOINTS}, None),
    ({**APP, "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": ENDPOINTS["TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL"]},
     "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER, TO_CHANNEL_FROM_BOT_LOGIN_URL, TO_CHANNEL_FROM_BOT_OAUTH_SCOPE missing"),
])
def test_an_app_id_needs_its_credentials(env, expected):
    problem = Config.from_env(env).startup_problem()
    assert problem == expected if expected is None else expected in problem


def bot_env(tmp_path, port: int, **settings: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SETTINGS}
    return {**env, "PORT": str(port), "POLL_BOT_DB": str(tmp_path / "bot.sqlite3"), **settings}


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("settings, says", [
    ({"HOST": "0.0.0.0"}, "HOST='0.0.0.0' is not a loopback address"),
    ({"HOST": ""}, "HOST='' is not a loopback address"),
    ({"HOST": "::"}, "HOST='::' is not a loopback address"),
    ({"HOST": "127.0.0.1", "MicrosoftAppId": APP["MicrosoftAppId"]}, "MicrosoftAppPassword is empty"),
])
def test_python_m_poll_bot_refuses_to_start(tmp_path, settings, says):
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "poll_bot"], env=bot_env(tmp_path, port, **settings),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("poll-bot will not start: ") and says in result.stderr
    assert "Traceback" not in result.stderr
    assert not listening(port)
    assert not (tmp_path / "bot.sqlite3").exists()


def test_python_m_poll_bot_refuses_an_empty_secret_file(tmp_path):
    (tmp_path / "secret").write_bytes(b"")  # as an instance would have read it mid-write before
    port = free_port()
    result = subprocess.run([sys.executable, "-m", "poll_bot"], env=bot_env(tmp_path, port),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stderr.endswith(f"poll-bot will not start: the secret file {tmp_path / 'secret'} is empty: "
                                  "set POLL_BOT_SECRET, or delete the file so that a new secret is generated\n")
    assert "Traceback" not in result.stderr
    assert not listening(port)
    assert not (tmp_path / "bot.sqlite3").exists()


async def test_allow_unauthenticated_starts_it_on_every_interface(tmp_path):
    port = free_port()
    env = bot_env(tmp_path, port, HOST="0.0.0.0", POLL_BOT_ALLOW_UNAUTHENTICATED="1", LOG_LEVEL="WARNING")
    process = subprocess.Popen([sys.executable, "-m", "poll_bot"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    assert process.poll() is None, process.stderr.read()
                    await asyncio.sleep(0.05)
            else:
                raise TimeoutError("the bot did not start")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "inbound requests are NOT authenticated" in stderr
