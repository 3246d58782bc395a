"""A local OpenID provider for inbound tokens: metadata, a JWKS and an RSA key to sign with.

It runs on its own thread and event loop because botbuilder fetches the metadata and keys
with blocking `requests` calls from the bot's event loop: on the same loop it would never answer.
"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OpenIdProvider:
    """Serves /.well-known/openid-configuration and /keys; `url` is also the issuer it names."""

    def __init__(self, key: rsa.RSAPrivateKey, endorsements: dict[str, list[str]]):
        """`endorsements` maps each published key id to the channels it is endorsed for."""
        self.key = key
        self._jwks = {"keys": [
            {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig",
             "endorsements": channels}
            for kid, channels in endorsements.items()
        ]}
        self.url = ""
        self.requests: list[str] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("the OpenID provider did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    def sign(self, claims: dict[str, Any], kid: str, key: rsa.RSAPrivateKey | None = None) -> str:
        """An RS256 token, signed with this provider's key unless told."""
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid})

    async def _serve(self) -> None:
        self._loop, self._stopped = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._metadata)
        app.router.add_get("/keys", self._keys)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        self._ready.set()
        await self._stopped.wait()
        await runner.cleanup()

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response({"issuer": self.url, "jwks_uri": f"{self.url}/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(self._jwks)


def claims(issuer: str, audience: str, service_url: str, **changes: Any) -> dict[str, Any]:
    """What the Bot Framework channel service puts in a token for a bot, valid for an hour.
    A change to None leaves that claim out."""
    now = int(time.time())
    token = {"iss": issuer, "aud": audience, "serviceurl": service_url, "nbf": now - 60, "iat": now - 60,
             "exp": now + 3600, **changes}
    return {name: value for name, value in token.items() if value is not None}
