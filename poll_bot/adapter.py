"""botbuilder's CloudAdapter, minus the per-turn client construction, with every
refusal of the request's credentials raised as AuthenticationFailed (a 401).

The stock adapter builds a new msrest ConnectorClient and UserTokenClient on
every turn; their retry-policy set-up was half of the CPU of a vote turn in a
profile. This adapter keeps one of each per service URL and identity.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Awaitable, Callable

import jwt
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, AuthenticationConstants

from .logs import log_context


class _Lru(OrderedDict):
    """A small bounded cache: an unauthenticated caller cannot grow it without limit."""

    def __init__(self, size: int):
        super().__init__()
        self._size = size

    def remember(self, key: Any, value: Any) -> Any:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self._size:
            self.popitem(last=False)
        return value


class AuthenticationFailed(Exception):
    """The request's Authorization header was refused: answer 401 and run nothing."""


# What botbuilder 4.17 raises when it refuses a token: PermissionError from its checks, PyJWT's
# errors for a malformed, expired, not yet valid or badly signed token, and IndexError from its
# key lookup for a key id the key set lacks. For an algorithm it does not allow and for a key not
# endorsed for the activity's channel it raises a bare Exception (never a subclass).
_REFUSALS = (PermissionError, jwt.PyJWTError, IndexError)


class PollBotAdapter(CloudAdapter):
    def __init__(self, bot_framework_authentication, channel_token_issuer: str, cache_size: int = 256):
        super().__init__(bot_framework_authentication)
        self._channel_token_issuer = channel_token_issuer
        self._connectors = _Lru(cache_size)
        self._token_clients = _Lru(cache_size)

    async def process_activity(self, auth_header: str | None, activity: Activity,
                               logic: Callable[[TurnContext], Awaitable]):
        conversation_id = activity.conversation.id if activity.conversation else None
        with log_context(activity.id, conversation_id):  # every line of this turn carries both
            return await self._process(auth_header, activity, logic)

    async def _process(self, auth_header: str | None, activity: Activity,
                       logic: Callable[[TurnContext], Awaitable]):
        result = await self.authenticate(activity, auth_header)
        activity.caller_id = result.caller_id
        context = self._create_turn_context(
            activity, result.claims_identity, result.audience,
            await self._connector(result, activity.service_url), await self._token_client(result),
            logic, result.connector_factory,
        )
        await self.run_pipeline(context, logic)
        return self._process_turn_results(context)

    async def authenticate(self, activity: Activity, auth_header: str | None) -> AuthenticateRequestResult:
        """botbuilder's check of the header, with every refusal raised as AuthenticationFailed."""
        try:
            if auth_header:
                self._refuse_other_issuers(auth_header)
            return await self.bot_framework_authentication.authenticate_request(activity, auth_header or None)
        except AuthenticationFailed:
            raise
        except Exception as error:
            if isinstance(error, _REFUSALS) or type(error) is Exception:
                raise AuthenticationFailed(repr(error)) from error
            raise

    def _refuse_other_issuers(self, auth_header: str) -> None:
        """Only the channel service's tokens are taken: botbuilder checks a token from an Entra ID
        issuer as the Emulator's, on a path that skips the audience and serviceurl checks."""
        scheme, _, token = auth_header.partition(" ")
        if scheme != "Bearer":
            raise AuthenticationFailed("not a Bearer token")
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        if issuer != self._channel_token_issuer:
            raise AuthenticationFailed(f"issuer {issuer!r} is not the channel service's")

    async def _connector(self, result: AuthenticateRequestResult, service_url: str):
        key = (service_url, result.audience, _app_id(result))
        client = self._connectors.get(key)
        if client is None:
            client = self._connectors.remember(key, await result.connector_factory.create(service_url, result.audience))
        return client

    async def _token_client(self, result: AuthenticateRequestResult):
        key = _app_id(result)
        client = self._token_clients.get(key)
        if client is None:
            made = await self.bot_framework_authentication.create_user_token_client(result.claims_identity)
            client = self._token_clients.remember(key, made)
        return client


def _app_id(result: AuthenticateRequestResult) -> str:
    claims = result.claims_identity.claims if result.claims_identity else {}
    return claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get(AuthenticationConstants.APP_ID_CLAIM) or ""
