"""Routes typed turns to feature handlers: card actions by verb, text by first word.

Feature modules each own a Router and register handlers on it:

    @router.action("poll.vote", PollVote)
    async def vote(turn, payload): ...

    @router.command("poll")
    async def poll_command(turn, args): ...
"""
from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any, Awaitable, Callable

from . import payloads
from .turn import Turn

log = logging.getLogger(__name__)

ActionHandler = Callable[[Turn, Any], Awaitable[None]]
CommandHandler = Callable[[Turn, str], Awaitable[None]]
EventHandler = Callable[[Turn, Any], Awaitable[None]]

UNKNOWN_BUTTON = "That button isn't one I recognise, so nothing was changed. Try the latest card."


class Router:
    def __init__(self) -> None:
        self._actions: dict[str, tuple[type, ActionHandler]] = {}
        self._commands: dict[str, CommandHandler] = {}
        self._events: dict[str, EventHandler] = {}
        self._fallback: CommandHandler | None = None

    def action(self, verb: str, payload_type: type) -> Callable[[ActionHandler], ActionHandler]:
        def register(handler: ActionHandler) -> ActionHandler:
            self._actions[verb] = (payload_type, handler)
            return handler
        return register

    def command(self, word: str) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            self._commands[word.casefold()] = handler
            return handler
        return register

    def event(self, name: str) -> Callable[[EventHandler], EventHandler]:
        """A Teams event (read receipt, installation, ...) by the name the edge gives it."""
        def register(handler: EventHandler) -> EventHandler:
            self._events[name] = handler
            return handler
        return register

    def fallback(self, handler: CommandHandler) -> CommandHandler:
        self._fallback = handler
        return handler

    def include(self, other: "Router") -> None:
        self._actions.update(other._actions)
        self._commands.update(other._commands)
        self._events.update(other._events)
        self._fallback = other._fallback or self._fallback

    async def dispatch_action(self, turn: Turn, value: Any) -> None:
        verb = value.get("verb") if isinstance(value, dict) else None
        route = self._actions.get(verb) if isinstance(verb, str) else None
        try:
            if route is None:
                raise payloads.PayloadError(f"unknown verb {verb!r}")
            payload = payloads.parse(value, route[0])
        except payloads.PayloadError as error:
            log.warning("rejected card payload from %s in %s: %s", turn.user.id, turn.conversation.id, error)
            await turn.notify(UNKNOWN_BUTTON)
            return
        press = json.dumps({"verb": verb, **dataclasses.asdict(payload)}, sort_keys=True)
        await route[1](dataclasses.replace(turn, press=press), payload)

    async def dispatch_event(self, turn: Turn, name: str, value: Any) -> None:
        handler = self._events.get(name)
        if handler is None:
            log.debug("no handler for event %s", name)
            return
        await handler(turn, value)

    async def dispatch_text(self, turn: Turn, text: str) -> None:
        parts = text.split(None, 1)
        word = parts[0].casefold() if parts else ""
        handler = self._commands.get(word)
        if handler is not None:
            await handler(turn, parts[1].strip() if len(parts) > 1 else "")
        elif self._fallback is not None:
            await self._fallback(turn, text.strip())
