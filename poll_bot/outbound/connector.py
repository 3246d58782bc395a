"""A small Bot Connector REST client on one shared aiohttp session.

botbuilder's msrest ConnectorClient is rebuilt on every turn and hides the
status code and Retry-After header the pipeline needs, so outbound calls use
this instead; credentials still come from botbuilder's factory.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
from botframework.connector.auth import AuthenticationConstants

from ..metrics import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectorResult:
    status: int
    error_code: str = ""
    retry_after: float | None = None
    activity_id: str | None = None
    body: Any = None


class TokenSource:
    """Bearer tokens for calls to Teams; none in local development (no app id)."""

    def __init__(self, config: Any):
        self._app_id = config.APP_ID
        self._factory = ConfigurationServiceClientCredentialFactory(config) if config.APP_ID else None
        # The login URL and scope botbuilder is configured with, or the public cloud's.
        self._scope = config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        self._login_url = config.TO_CHANNEL_FROM_BOT_LOGIN_URL or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
        self._credentials = None

    async def header(self) -> dict[str, str]:
        if self._factory is None:
            return {}
        if self._credentials is None:
            self._credentials = await self._factory.create_credentials(self._app_id, self._scope,
                                                                       self._login_url, True)
        # msal caches the token; a cache miss does blocking HTTP, so keep it off the loop.
        token = await asyncio.to_thread(self._credentials.get_access_token)
        return {"Authorization": f"Bearer {token}"}


CALL_SECONDS = 15.0  # the longest a call toward Teams may take, getting its token included


class Connector:
    def __init__(self, session: aiohttp.ClientSession, tokens: TokenSource, metrics: Metrics,
                 timeout: float = CALL_SECONDS):
        self._session = session
        self._tokens = tokens
        self._metrics = metrics
        self._timeout = timeout

    async def send(self, service_url: str, conversation_id: str, activity: dict) -> ConnectorResult:
        return await self._call("send", "POST", _activities_url(service_url, conversation_id), activity)

    async def update(self, service_url: str, conversation_id: str, activity_id: str,
                     activity: dict) -> ConnectorResult:
        activity = {**activity, "id": activity_id}
        return await self._call("update", "PUT", _activities_url(service_url, conversation_id, activity_id), activity)

    async def delete(self, service_url: str, conversation_id: str, activity_id: str) -> ConnectorResult:
        return await self._call("delete", "DELETE", _activities_url(service_url, conversation_id, activity_id), None)

    async def members_page(self, service_url: str, conversation_id: str, token: str | None) -> ConnectorResult:
        """One page of a conversation's members: body {"members": [...], "continuationToken": ...}."""
        url = f"{_conversation_url(service_url, conversation_id)}/pagedmembers?pageSize=500"
        if token:
            url += f"&continuationToken={quote(token, safe='')}"
        return await self._call("members", "GET", url, None)

    async def create_conversation(self, service_url: str, bot_id: str, user_id: str,
                                  tenant_id: str) -> ConnectorResult:
        """Open (or find) the bot's 1:1 chat with a user; its id comes back as activity_id."""
        body = {"bot": {"id": bot_id}, "members": [{"id": user_id}], "isGroup": False, "tenantId": tenant_id,
                "channelData": {"tenant": {"id": tenant_id}}}
        return await self._call("create_conversation", "POST", f"{service_url.rstrip('/')}/v3/conversations", body)

    async def _call(self, operation: str, method: str, url: str, body: dict | None) -> ConnectorResult:
        try:
            async with asyncio.timeout(self._timeout):
                headers = await self._tokens.header()
                async with self._session.request(method, url, json=body, headers=headers) as response:
                    payload = await _json_or_empty(response)
                    self._metrics.outbound_call(operation, response.status)
                    return ConnectorResult(
                        status=response.status,
                        error_code=_error_code(payload),
                        retry_after=_retry_after(response.headers.get("Retry-After")),
                        activity_id=payload.get("id") if isinstance(payload, dict) else None,
                        body=payload,
                    )
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            log.warning("%s %s failed: %r", method, url, error)
            self._metrics.outbound_call(operation, None)
            return ConnectorResult(status=503, error_code="ConnectionFailed")


def _conversation_url(service_url: str, conversation_id: str) -> str:
    return f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}"


def _activities_url(service_url: str, conversation_id: str, activity_id: str | None = None) -> str:
    url = f"{_conversation_url(service_url, conversation_id)}/activities"
    return f"{url}/{quote(activity_id, safe='')}" if activity_id else url


async def _json_or_empty(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}


def _error_code(payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return str(payload["error"].get("code", ""))
    return ""


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
