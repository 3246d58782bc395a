"""Routes typed turns to feature handlers: card actions by verb, text by first word.

Feature modules each own a Router and register handlers on it:

    @router.action("poll.vote", PollVote)
    async def vote(turn, payload): ...

    @router.command("poll")
    async def poll_command(turn, args): ...

    @router.event("channelDeleted")
    async def channel_deleted(turn, event): ...
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from typing import Any, Awaitable, Callable

from . import payloads
from .i18n import N_, _
from .turn import Turn

log = logging.getLogger(__name__)

ActionHandler = Callable[[Turn, Any], Awaitable[None]]
CommandHandler = Callable[[Turn, str], Awaitable[None]]
EventHandler = Callable[[Turn, Any], Awaitable[None]]
TextHook = Callable[[Turn, str], Awaitable[bool]]
MAX_COMMAND_WORDS = 3

UNKNOWN_BUTTON = N_("That button isn't one I recognise, so nothing was changed. Try the latest card.")


class Router:
    def __init__(self) -> None:
        self._actions: dict[str, tuple[type, ActionHandler]] = {}
        self._commands: dict[str, CommandHandler] = {}
        self._events: dict[str, EventHandler] = {}
        self._fallback: CommandHandler | None = None
        self._text_hooks: list[TextHook] = []
        self._quick_replies: dict[str, str] = {}

    def action(self, verb: str, payload_type: type) -> Callable[[ActionHandler], ActionHandler]:
        def register(handler: ActionHandler) -> ActionHandler:
            self._actions[verb] = (payload_type, handler)
            return handler
        return register

    def command(self, phrase: str) -> Callable[[CommandHandler], CommandHandler]:
        """A command by its first word(s), e.g. "poll" or "my open polls"."""
        def register(handler: CommandHandler) -> CommandHandler:
            self._commands[" ".join(phrase.casefold().split())] = handler
            return handler
        return register

    def before_commands(self, hook: TextHook) -> TextHook:
        """A text hook that may take a message before commands do (a tapped quick reply); returns True if it did."""
        self._text_hooks.append(hook)
        return hook

    def quick_replies(self, commands: dict[str, str]) -> None:
        """Quick replies: title (a catalog text, shown and sent in the person's language) -> the
        command it stands for. A text starting with a title in the sender's language is read as
        that command (Agents Playground sends a quick reply's title, Teams its value: the same)."""
        self._quick_replies.update(commands)

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
        self._text_hooks += other._text_hooks
        self._quick_replies.update(other._quick_replies)
        self._fallback = other._fallback or self._fallback

    async def dispatch_action(self, turn: Turn, value: Any) -> Any | None:
        """Run the verb's handler on the parsed payload and return the payload; None (and a notice
        to the presser) when the payload is malformed, forged or of an unknown verb."""
        verb = value.get("verb") if isinstance(value, dict) else None
        route = self._actions.get(verb) if isinstance(verb, str) else None
        try:
            if route is None:
                raise payloads.PayloadError(f"unknown verb {verb!r}")
            payload = payloads.parse(value, route[0])
        except payloads.PayloadError as error:
            log.warning("rejected card payload from %s in %s: %s", turn.user.id, turn.conversation.id, error)
            await turn.store.run(turn.refuse, _(UNKNOWN_BUTTON))
            return None
        press = json.dumps({"verb": verb, **dataclasses.asdict(payload)}, sort_keys=True)
        await route[1](dataclasses.replace(turn, press=press, pressed=payload), payload)
        return payload

    async def dispatch_event(self, turn: Turn, name: str, value: Any) -> None:
        handler = self._events.get(name)
        if handler is None:
            log.debug("no handler for event %s", name)
            return
        await handler(turn, value)

    async def dispatch_text(self, turn: Turn, text: str) -> None:
        for hook in self._text_hooks:
            if await hook(turn, text):
                return
        text = self._as_command(text)
        words = text.split(None, MAX_COMMAND_WORDS)
        for count in range(min(MAX_COMMAND_WORDS, len(words)), 0, -1):
            handler = self._commands.get(" ".join(words[:count]).casefold())
            if handler is not None:
                rest = text.split(None, count)
                await handler(turn, rest[count].strip() if len(rest) > count else "")
                return
        if self._fallback is not None:
            await self._fallback(turn, text.strip())

    def _as_command(self, text: str) -> str:
        """A quick reply's title in the sender's language ("Genehmigen #4"), as its command ("approve #4")."""
        for title, command in self._quick_replies.items():
            shown = re.match(re.escape(_(title)) + r"(?!\S)", text, re.IGNORECASE)
            if shown:
                return command + text[shown.end():]
        return text
