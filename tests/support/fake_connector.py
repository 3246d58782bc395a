"""A local stand-in for the Teams Bot Connector: records what the bot sends.

It keeps the conversation as users would see it (messages by id, replaced by
PUT, removed by DELETE) and every call made, and can inject faults.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

Fault = Callable[["Call"], "web.Response | None"]


# Teams' published per-thread limits for send/update/delete: (operations, seconds).
TEAMS_THREAD_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
# "Get conversation members" has a budget of its own in Teams' table (reference/teams-platform.md).
TEAMS_MEMBERS_LIMITS = ((14, 1.0), (16, 2.0), (120, 30.0), (3600, 3600.0))


def thread_of(call: "Call") -> str:
    return call.conversation_id.split(";", 1)[0]


class TeamsLimits:
    """Answers 429 with Retry-After, like Teams, when a budget is exceeded: a thread's, or
    whatever `key` groups calls by (a tenant's). Counted when the call arrives.

    Deliberately naive and independent of the bot's own limiter, so a bug there
    shows up here as 429s.
    """

    def __init__(self, limits=TEAMS_THREAD_LIMITS, key: Callable[["Call"], str] = thread_of):
        self._limits = limits
        self._key = key
        self._accepted: dict[str, list[float]] = {}
        self.throttled = 0

    def __call__(self, call: "Call") -> "web.Response | None":
        now = time.monotonic()
        reading_members = call.method == "GET" and self._limits is TEAMS_THREAD_LIMITS
        limits = TEAMS_MEMBERS_LIMITS if reading_members else self._limits
        accepted = self._accepted.setdefault(("members " if reading_members else "") + self._key(call), [])
        for limit, seconds in limits:
            inside = [t for t in accepted if t > now - seconds]
            if len(inside) >= limit:
                self.throttled += 1
                retry_after = inside[-limit] + seconds - now
                return _error(429, "Throttled", {"Retry-After": f"{retry_after:.3f}"})
        accepted.append(now)
        return None


@dataclass
class Call:
    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any] | None
    status: int = 0
    prefix: str = ""  # "gcc/" when the bot called the GCC service URL
    at: float = 0.0


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    # conversation id -> {activity id -> activity}, in posting order
    conversations: dict[str, dict[str, dict]] = field(default_factory=dict)
    fault: Fault | None = None
    limits: TeamsLimits | None = None
    delay: float = 0.0
    jitter: float = 0.0  # each call also waits a random time below this before it is counted and answered
    gate: asyncio.Event | None = None  # when set to an unset Event, every call waits for it
    # Calls for which it returns an Event wait for it before they arrive at all (still on their way).
    hold: Callable[["Call"], asyncio.Event | None] | None = None
    rosters: dict[str, list[dict]] = field(default_factory=dict)  # conversation id -> members
    page_limit: int = 500  # Teams caps pageSize; a small cap makes the bot page
    opened_chats: list[dict] = field(default_factory=list)  # bodies of create-conversation calls
    in_flight: dict[str | None, int] = field(default_factory=dict)
    max_in_flight: int = 0  # most calls ever open at once for one conversation
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _random: random.Random = field(default_factory=lambda: random.Random(20261121))
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> str:
        app = web.Application()
        for prefix in ("", "/gcc"):
            # Any id, braces included (aiohttp's default pattern refuses them; Teams does not).
            base = prefix + "/v3/conversations/{conversation:[^/]+}/activities"
            app.router.add_post(base, self._post)
            app.router.add_put(base + "/{activity:[^/]+}", self._put)
            app.router.add_delete(base + "/{activity:[^/]+}", self._delete)
            app.router.add_get(prefix + "/v3/conversations/{conversation:[^/]+}/pagedmembers", self._members)
            app.router.add_post(prefix + "/v3/conversations", self._create_conversation)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # What users see -------------------------------------------------------

    def messages(self, conversation_id: str) -> list[dict]:
        return list(self.conversations.get(conversation_id, {}).values())

    def card(self, conversation_id: str, activity_id: str) -> dict:
        """The card in one message, as it is now."""
        return self.conversations[conversation_id][activity_id]["attachments"][0]["content"]

    def cards(self, conversation_id: str) -> list[dict]:
        return [m["attachments"][0]["content"] for m in self.messages(conversation_id) if m.get("attachments")]

    def texts(self, conversation_id: str) -> list[str]:
        return [shown_text(m) for m in self.messages(conversation_id) if m.get("text")]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and 200 <= c.status < 300]

    def busiest_second(self, key: Callable[[Call], str]) -> dict[str, int]:
        """For each key of the calls (their tenant, say): the most calls that arrived within one
        second, counting every call, also those answered 429."""
        arrivals: dict[str, list[float]] = {}
        for call in self.calls:
            arrivals.setdefault(key(call), []).append(call.at)
        busiest = {}
        for name, times in arrivals.items():
            times.sort()
            first, most = 0, 0
            for last, at in enumerate(times):
                while at - times[first] >= 1.0:
                    first += 1
                most = max(most, last - first + 1)
            busiest[name] = most
        return busiest

    # Handlers -------------------------------------------------------------

    async def _answer(self, request: web.Request, call: Call, succeed: Callable[[], web.Response]) -> web.Response:
        held = self.hold(call) if self.hold else None
        if held is not None:
            await held.wait()
        call.prefix = "gcc/" if request.path.startswith("/gcc/") else ""
        call.at = time.monotonic()
        self.calls.append(call)
        # Only sends, updates and deletes change what a conversation shows: reading a roster (by the
        # team's id for every channel of it) or opening a 1:1 chat is no conversation's call in flight.
        conversation = call.conversation_id if call.method in ("POST", "PUT", "DELETE") else None
        self.in_flight[conversation] = self.in_flight.get(conversation, 0) + 1
        if conversation:
            self.max_in_flight = max(self.max_in_flight, self.in_flight[conversation])
        try:
            if self.delay or self.jitter:
                await asyncio.sleep(self.delay + self._random.uniform(0, self.jitter))
            if self.gate is not None:
                await self.gate.wait()
            response = self.limits(call) if self.limits else None
            if response is None and self.fault:
                response = self.fault(call)
            response = response or succeed()
        finally:
            self.in_flight[conversation] -= 1
        call.status = response.status
        return response

    async def _post(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        body = await request.json()
        call = Call("POST", conversation, None, body)

        def succeed() -> web.Response:
            activity_id = str(next(self._ids))
            call.activity_id = activity_id
            self.conversations.setdefault(conversation, {})[activity_id] = body
            return web.json_response({"id": activity_id})
        return await self._answer(request, call, succeed)

    async def _put(self, request: web.Request) -> web.Response:
        conversation, activity_id = request.match_info["conversation"], request.match_info["activity"]
        body = await request.json()
        call = Call("PUT", conversation, activity_id, body)

        def succeed() -> web.Response:
            messages = self.conversations.get(conversation, {})
            if activity_id not in messages:
                return _error(404, "ActivityNotFoundInConversation")
            messages[activity_id] = body
            return web.json_response({"id": activity_id})
        return await self._answer(request, call, succeed)

    async def _members(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        call = Call("GET", conversation, None, None)
        size = min(int(request.query.get("pageSize", "100")), self.page_limit)
        start = int(request.query.get("continuationToken", "0"))

        def succeed() -> web.Response:
            if conversation not in self.rosters:
                return _error(404, "ConversationNotFound")
            members = self.rosters[conversation]
            page = {"members": members[start:start + size]}
            if start + size < len(members):
                page["continuationToken"] = str(start + size)
            return web.json_response(page)
        return await self._answer(request, call, succeed)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call("CREATE", "", None, body)

        def succeed() -> web.Response:
            user = body["members"][0]["id"]
            conversation_id = "a:1personal-" + user.split(":", 1)[-1]
            self.opened_chats.append(body)
            self.conversations.setdefault(conversation_id, {})
            return web.json_response({"id": conversation_id}, status=201)
        return await self._answer(request, call, succeed)

    async def _delete(self, request: web.Request) -> web.Response:
        conversation, activity_id = request.match_info["conversation"], request.match_info["activity"]
        call = Call("DELETE", conversation, activity_id, None)

        def succeed() -> web.Response:
            if self.conversations.get(conversation, {}).pop(activity_id, None) is None:
                return _error(404, "ActivityNotFoundInConversation")
            return web.Response(status=200)
        return await self._answer(request, call, succeed)


def shown_text(message: dict) -> str:
    """A text message as Teams shows it: XML line breaks as lines, entities as characters."""
    if message.get("textFormat") != "xml":
        return message["text"]
    return html.unescape(re.sub(r"<br\s*/?>", "\n", re.sub(r"</?p>", "", message["text"])))


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": code}}, status=status, headers=headers)


error_response = _error
