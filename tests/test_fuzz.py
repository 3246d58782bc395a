"""Thousands of mutated Teams activities through the real HTTP app (hypothesis).

Each example takes one base activity built from the seed payloads (typed commands,
presses of every button on the seeded cards, edits, deletes, reactions, installation,
members, renames, read receipts, invokes), mutates it (keys dropped, types swapped,
huge, negative and non-finite numbers, deep nesting, lone surrogates and odd Unicode,
wrong-typed nested objects, malformed timestamps, random verbs, payload ids and
commands, broken bytes), posts it to /api/messages of the real aiohttp app with the
fake connector behind it, and waits until outbound work has settled.

Checked for every request:

1. No answer of 500 or more, except 501 to an ``invoke`` (botbuilder's "not
   implemented" for invokes the bot does not handle).
2. No log record carrying a traceback (``exc_info``) and none at ERROR or above.
3. The data invariant. S is the request's sender (``from.id``).
   - An answer of 4xx commits nothing: SQLite's ``data_version``, read on a
     connection of the test's own, is the same before and after the request.
   - Any other answer changes only what S may change, compared row by row on the
     tables that hold people's data:
     ``polls`` and ``poll_options``: rows added, changed or removed only for polls
     whose creator is S; ``votes``: rows added or removed only with user S, or
     removed with their poll when S deleted it; ``approvals``: added only with
     requester S, changed only where S is the requester or one of its approvers,
     never removed; ``approval_approvers``: added only with a request of S,
     changed only in a row that was S's (a decision or a reassignment), never
     removed; ``approval_events`` (the audit): no row ever changes or goes, and
     new rows name S or the bot as actor.

The bases leave out the events by which Teams itself closes or erases everyone's data
in a team or chat (app or bot removed, team deleted or archived, channel deleted or
restored): they are Teams' authority, not a sender's, and have their own scenario
tests (test_lifecycle_scenarios.py). No mutation produces their names, nor gives the
bot (``recipient``) a person's id, which would make that person's leaving the bot's removal.

The app keeps its state between examples (a request acts on what earlier ones left),
so failures are collected and reported together rather than shrunk. Every
EPOCH examples the bot starts afresh on a new database seeded with: a poll in
Megan's 1:1 chat created by a typed command, a poll by Alex in a group chat with
votes by all three people, an approval by Megan in a channel that Alex approved,
and one by Patti in the group chat that Megan approved and Alex still has to decide.

POLL_BOT_FUZZ_EXAMPLES sets the number of examples (`make fuzz` runs 20,000); the
seed is fixed (derandomize), so a run is reproducible.
"""
from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import aiohttp
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from poll_bot.app import PIPELINE, create_app
from poll_bot.config import Config
from tests.support import cards, teams
from tests.support.fake_connector import FakeConnector
from tests.support.teams import ALEX, MEGAN, PAT

EXAMPLES = int(os.environ.get("POLL_BOT_FUZZ_EXAMPLES", "2000"))
EPOCH = 300
PEOPLE = (MEGAN, ALEX, PAT)
# No outbound budget or timer gets in the way of thousands of requests a minute.
CONFIG = {"DOUBLE_PRESS_SECONDS": 0.0, "RETRY_BASE_DELAY": 0.01, "TIMER_SECONDS": 86400.0,
          "THREAD_LIMITS": ((10**9, 1.0),), "TENANT_LIMITS": ((10**9, 1.0),)}
PROTECTED = {  # table -> its key columns
    "polls": ("id",), "poll_options": ("poll_id", "position"), "votes": ("poll_id", "position", "user_id"),
    "approvals": ("id",), "approval_approvers": ("approval_id", "position"), "approval_events": ("id",),
}


# The bot on an event loop of its own, so hypothesis can drive it synchronously -------------

class EveryConversation(dict):
    """Rosters as Teams has them for the fuzz: it knows every conversation an activity comes
    from (mutated ids included), each with the three people."""

    def __contains__(self, conversation_id: object) -> bool:
        return True

    def __missing__(self, conversation_id: str) -> list[dict]:
        return [p.account() for p in PEOPLE]


class LiveBot:
    def __init__(self, folder: Path):
        self._folder = folder
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._epochs = 0
        self.connector: FakeConnector | None = None
        self.server: TestServer | None = None
        self.session: aiohttp.ClientSession | None = None
        self.db_path: Path | None = None
        self.reader: sqlite3.Connection | None = None  # the test's own connection to the bot's database

    def call(self, coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=120)

    def restart(self) -> None:
        """A fresh bot on a new database."""
        self.close_reader()
        self.call(self._stop())
        self._epochs += 1
        self.db_path = self._folder / f"fuzz{self._epochs}.sqlite3"
        self.call(self._start())
        self.reader = sqlite3.connect(self.db_path, isolation_level=None)
        self.reader.row_factory = sqlite3.Row

    def close_reader(self) -> None:
        if self.reader:
            self.reader.close()

    def close(self) -> None:
        self.close_reader()
        self.call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _start(self) -> None:
        self.connector = FakeConnector(rosters=EveryConversation())
        await self.connector.start()
        self.server = TestServer(create_app(Config(DB_PATH=str(self.db_path), **CONFIG)), host="127.0.0.1")
        await self.server.start_server()
        self.session = aiohttp.ClientSession()

    async def _stop(self) -> None:
        if self.session:
            await self.session.close()
            await self.server.close()
            await self.connector.stop()

    async def post(self, body: bytes) -> tuple[int, str]:
        url = self.server.make_url("/api/messages")
        async with self.session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            text = await response.text()
        await self.server.app[PIPELINE].wait_idle()
        return response.status, text

    def send(self, activity: dict[str, Any]) -> tuple[int, str]:
        return self.call(self.post(encode(activity)))

    def rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.reader.execute(sql, args).fetchall()

    def data_version(self) -> int:
        """Changes whenever another connection (the bot's) commits."""
        return self.reader.execute("PRAGMA data_version").fetchone()[0]


# Seeded state and the base activities built on it ---------------------------------------

GROUP, CHANNEL = teams.group_chat(), teams.channel_thread()
CHATS = {chat.id: chat for chat in (GROUP, CHANNEL, *(teams.personal_chat(p) for p in PEOPLE))}
INPUTS = {"comment": "Looks good", "reason": "Over budget", "reassign_to": PAT.id, "question": "Coffee?",
          "options": "Tea\nCoffee", "choice_mode": "multiple", "title": "New chairs", "details": "Ten",
          "approvers": f"{ALEX.id},{PAT.id}", "policy": "quorum", "quorum": "1", "due_date": "2031-01-01",
          "due_time": "09:00"}
COMMANDS = ("poll", "new poll", "approval", "new approval", "approve", "reject", "details", "help",
            "my open polls", "pending approvals", "hello", "Pizza", "Yes")


@dataclass(frozen=True)
class Seeded:
    """What the seeded bot shows: every button on every card, and the ids the bases use."""
    buttons: list[tuple[str, str, dict]]  # (conversation id, card's activity id, button data)
    command_message_id: str  # Megan's `poll ...` message in her 1:1 chat
    texts: list[tuple[str, str]]  # (conversation id, activity id) of each text the bot sent
    poll_ids: list[int]
    approval_ids: list[int]


def seed(bot: LiveBot) -> Seeded:
    url = bot.connector.url

    def say(chat, person, text, mentioning=()):
        activity = teams.message(chat, person, text, url, mentioning)
        assert bot.send(activity)[0] == 200
        return activity["id"]

    def press(chat, person, title, kind, **inputs):
        card_id = bot.rows("SELECT activity_id FROM cards WHERE kind = ? AND conversation_id = ? ORDER BY id DESC",
                           kind, chat.id)[0][0]
        data = cards.buttons(bot.connector.card(chat.id, card_id))[title]
        assert bot.send(teams.submit(chat, person, {**data, **inputs}, card_id, url))[0] == 200

    megan_chat = teams.personal_chat(MEGAN)
    command_message_id = say(megan_chat, MEGAN, "poll Lunch? | Pizza | Sushi")
    press(megan_chat, MEGAN, "Pizza", "poll")
    say(GROUP, ALEX, "poll Friday drinks? | Yes | No | Maybe")
    for person, option in ((MEGAN, "Yes"), (PAT, "No"), (ALEX, "Maybe")):
        press(GROUP, person, option, "poll")
    say(CHANNEL, MEGAN, "approval Laptops | Three <at>Alex Wilber</at> <at>Patti Fernandez</at>", (ALEX, PAT))
    press(CHANNEL, ALEX, "Confirm approval", "approval", comment="fine")
    say(GROUP, PAT, "approval Budget | Q3 <at>Megan Bowen</at> <at>Alex Wilber</at>", (MEGAN, ALEX))
    press(GROUP, MEGAN, "Confirm approval", "approval")
    say(GROUP, MEGAN, "poll")  # an open poll form
    say(CHANNEL, PAT, "approval")  # an open approval form

    buttons, texts = [], []
    for conversation_id, messages in bot.connector.conversations.items():
        for activity_id, message in messages.items():
            if message.get("attachments"):
                card = message["attachments"][0]["content"]
                buttons += [(conversation_id, activity_id, data) for data in cards.buttons(card).values() if data]
            else:
                texts.append((conversation_id, activity_id))
    return Seeded(buttons, command_message_id, texts, [r[0] for r in bot.rows("SELECT id FROM polls")],
                  [r[0] for r in bot.rows("SELECT id FROM approvals")])


def bases(url: str, seeded: Seeded) -> dict[str, Callable[[st.DataObject], dict]]:
    """Base activity builders by name; each draws its free choices (who, which card...)."""
    person = st.sampled_from(PEOPLE)
    chat = st.sampled_from(list(CHATS.values()))
    megan_chat = teams.personal_chat(MEGAN)

    def typed(data):
        words = data.draw(st.sampled_from(COMMANDS))
        args = data.draw(st.sampled_from(["", "Lunch? | Pizza | Sushi", "#1 fine", "#2", "Q | a | a",
                                          "Budget | x <at>Alex Wilber</at>", "#" + "9" * 5000]))
        return teams.message(data.draw(chat), data.draw(person), f"{words} {args}".strip(), url,
                             data.draw(st.sampled_from([(), (ALEX,), (PAT, MEGAN)])))

    def pressed(data):
        conversation_id, activity_id, button = data.draw(st.sampled_from(seeded.buttons))
        return teams.submit(CHATS[conversation_id], data.draw(person), {**button, **INPUTS}, activity_id, url)

    def invoke(data):
        conversation_id, activity_id, button = data.draw(st.sampled_from(seeded.buttons))
        activity = teams.submit(CHATS[conversation_id], data.draw(person), {}, activity_id, url)
        activity.update(type="invoke", name=data.draw(st.sampled_from(["adaptiveCard/action", "task/fetch",
                                                                        "composeExtension/query", "signin/verifyState"])))
        activity["value"] = {"action": {"type": "Action.Execute", "verb": button.get("verb"), "data": button},
                             "trigger": "manual"}
        return activity

    def message_event(data):
        make = data.draw(st.sampled_from([teams.edited, teams.undeleted]))
        return make(megan_chat, MEGAN, seeded.command_message_id, "poll Lunch today? | Pizza | Tacos", url)

    def deleted(data):
        return teams.soft_deleted(megan_chat, MEGAN, seeded.command_message_id, url)

    def reaction(data):
        conversation_id, activity_id = data.draw(st.sampled_from(
            seeded.texts + [(c, a) for c, a, _ in seeded.buttons]))
        return teams.reaction(CHATS[conversation_id], data.draw(person), activity_id, url, added=("like",),
                              removed=data.draw(st.sampled_from([(), ("heart",)])))

    def installed(data):
        return teams.installation(data.draw(chat), data.draw(person), "add", url)

    def members(data):
        people = tuple(data.draw(st.lists(person, min_size=1, max_size=2)))
        change = data.draw(st.sampled_from(["added", "removed"]))
        return teams.members_changed(data.draw(st.sampled_from([GROUP, CHANNEL])), data.draw(person), url,
                                     **{change: people})

    def renamed(data):
        event = data.draw(st.sampled_from(["channelRenamed", "teamRenamed", "channelCreated", "teamRestored"]))
        return teams.team_event(CHANNEL, data.draw(person), event, url, channel=dict(teams.PLANNING))

    def read(data):
        conversation_id, activity_id = data.draw(st.sampled_from(seeded.texts))
        return teams.read_receipt(CHATS[conversation_id], data.draw(person), activity_id, url)

    return {f.__name__: f for f in (typed, pressed, invoke, message_event, deleted, reaction, installed,
                                    members, renamed, read)}


# Mutations ---------------------------------------------------------------------------------

class Raw:
    """JSON text written into the body as it is: json.dumps would recurse into deep nesting
    and refuses integers of more than 4300 digits."""

    def __init__(self, text: str):
        self.text = text


def encode(activity: Any) -> bytes:
    raw: list[Raw] = []

    def placeholder(value):
        if isinstance(value, Raw):
            raw.append(value)
            return f"\0raw{len(raw) - 1}\0"
        raise TypeError(value)
    text = json.dumps(activity, default=placeholder)
    for index, value in enumerate(raw):
        text = text.replace(json.dumps(f"\0raw{index}\0"), value.text)
    return text.encode("utf-8")


SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
ODD_CHARACTERS = st.sampled_from(["\x00", "\u202e", "\u200b", "\ufeff", "\U0001f355", "\U000e0001", "\uffff", "\x85"])
ODD_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(st.one_of(SURROGATES, st.characters()), min_size=1, max_size=6),
    st.sampled_from(["", " ", "\x00", "\ud800", "a\udfffb", "\u202e\u200b", "<at>Poll Bot</at>", "<at>(</at>",
                     "(", "[", "\\", "%s", "💥" * 3, "x" * 10_000, "9" * 5000, "http://", "@", ";messageid=1"]),
)
TIMESTAMPS = st.sampled_from(["2024-02-30T10:00:00Z", "not a date", "", "9999-99-99", "2024-01-01T25:00:00",
                              "+275760-09-13T00:00:00Z", "0000-00-00T00:00:00Z", "2024-01-01T00:00:00.1234567890Z",
                              "2024-01-01T00:00:00+99:00", "2019-08-15T12:00:00.1234567-07:00", "T", "1e9"])
NUMBERS = st.one_of(
    st.integers(), st.sampled_from([2**63, 2**63 - 1, -2**63, -2**63 - 1, 2**64, 10**40, -1, 0, 10**4000]),
    st.floats(allow_nan=True, allow_infinity=True),
)
# Card inputs and time zones at the edges of what the forms and due dates accept.
EDGE_INPUTS = st.sampled_from(["9999-12-31", "0001-01-01", "2031-02-30", "23:59", "24:00", "99999999999999999999",
                               "-1", "0", "Etc/GMT+12", "Pacific/Kiritimati", "../../etc/passwd", "Not/AZone", ",",
                               "single", "first", "sequence"])
# Approvers and reassignments naming the requester, a duplicate or anyone (only card inputs get them:
# a person's id as `recipient.id` would make a person's leaving look like the bot's removal).
PERSON_INPUTS = st.sampled_from([p.id for p in PEOPLE] + [f"{ALEX.id},{ALEX.id}", f"{MEGAN.id},{PAT.id}"])
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, ODD_TEXT, TIMESTAMPS)
JUNK = st.one_of(
    SCALARS,
    st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
                 max_leaves=6),
    st.builds(lambda v, n: {"id": v, "name": n}, SCALARS, SCALARS),
    st.integers(min_value=20, max_value=200_000).map(lambda depth: Raw("[" * depth + "1" + "]" * depth)),
    st.just(Raw("1" + "0" * 5000)),
)
# Paths the bot reads that a base may lack; a mutation may set them.
READ_PATHS = (("timestamp",), ("localTimestamp",), ("entities",), ("recipient",), ("recipient", "id"),
              ("channelData",), ("channelData", "tenant"), ("channelData", "tenant", "id"), ("channelData", "team"),
              ("channelData", "channel"), ("channelData", "eventType"), ("value",), ("value", "verb"),
              ("value", "action"), ("value", "action", "type"), ("value", "action", "data"), ("name",), ("action",),
              ("membersAdded",), ("membersRemoved",), ("reactionsAdded",), ("conversation", "conversationType"),
              ("conversation", "tenantId"), ("from", "name"), ("from", "aadObjectId"), ("text",), ("replyToId",),
              ("id",), ("channelId",), ("type",), ("entities", 0, "mentioned"), ("entities", 0, "text"),
              ("entities", 0, "type"), ("entities", -1, "timezone"))


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found.append(prefix + (key,))
        found += paths(child, prefix + (key,))
    return found


def put(activity: dict, path: tuple, value: Any) -> None:
    """Set `path` to `value`, making (or replacing) the containers on the way: lists for int keys."""
    node = activity
    for key, following in zip(path, path[1:]):
        wanted = list if isinstance(following, int) else dict
        key = _slot(node, key)
        child = (node.get(key) if isinstance(node, dict) else node[key] if key < len(node) else None)
        if not isinstance(child, wanted):
            child = wanted()
            _assign(node, key, child)
        node = child
    _assign(node, _slot(node, path[-1]), value)


def _slot(node: dict | list, key: Any) -> Any:
    """A list index inside the list (negative ones from the end), else one past its end."""
    if isinstance(node, list):
        return key if -len(node) <= key < len(node) else len(node)
    return key


def _assign(node: dict | list, key: Any, value: Any) -> None:
    if isinstance(node, list) and key == len(node):
        node.append(value)
    else:
        node[key] = value


def drop(activity: dict, path: tuple) -> None:
    node = activity
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]


def get(activity: dict, path: tuple) -> Any:
    for key in path:
        activity = activity[key]
    return activity


def swapped(value: Any) -> Any:
    """The same content in another JSON type."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)} if value else "[]"
    if isinstance(value, str):
        return int(value) if value.isdigit() and len(value) < 4000 else [value]
    return str(value)


def mutate(data: st.DataObject, activity: dict, seeded: Seeded) -> dict:
    activity = copy.deepcopy(activity)
    ids = st.sampled_from(seeded.poll_ids + seeded.approval_ids + [0, 1, 2, 3, 4, 5]) | NUMBERS
    verbs = st.sampled_from(sorted({b.get("verb") for _, _, b in seeded.buttons} | {"poll.nope"})) | ODD_TEXT
    for _ in range(data.draw(st.integers(0, 3))):
        existing = paths(activity)
        operation = data.draw(st.sampled_from(["drop", "replace", "swap", "set", "payload", "sender", "garble"]))
        texts = [path for path in existing if isinstance(get(activity, path), str)]
        if operation == "garble" and texts:
            path = data.draw(st.sampled_from(texts))
            text, at = get(activity, path), data.draw(st.integers(0, len(get(activity, path))))
            put(activity, path, text[:at] + data.draw(SURROGATES | ODD_CHARACTERS) + text[at:])
        elif operation in ("drop", "replace", "swap") and existing:
            path = data.draw(st.sampled_from(existing))
            if operation == "drop":
                drop(activity, path)
            else:
                put(activity, path, data.draw(JUNK) if operation == "replace" else swapped(get(activity, path)))
        elif operation == "sender":
            activity["from"] = data.draw(st.sampled_from(PEOPLE)).account()
        elif operation == "set":
            put(activity, data.draw(st.sampled_from(READ_PATHS)), data.draw(JUNK | TIMESTAMPS | EDGE_INPUTS))
        elif isinstance(activity.get("value"), dict):
            key = data.draw(st.sampled_from(["verb", "poll", "option", "approval", "card", "v", *INPUTS]))
            values = verbs if key == "verb" else EDGE_INPUTS | PERSON_INPUTS | ODD_TEXT if key in INPUTS else ids
            activity["value"][key] = data.draw(values)
    return activity


def broken_bytes(data: st.DataObject, body: bytes) -> bytes:
    """Bodies that are not JSON, or not UTF-8, or not an object."""
    cut = data.draw(st.integers(0, len(body)))
    return data.draw(st.sampled_from([body[:cut], body[:cut] + b"\xff\xfe" + body[cut:], b"[" + body + b"]",
                                      b"12", b"null", b'"text"', b"{" * 100_000, b"[" * 5000 + b"]" * 5000]))


# The invariant -------------------------------------------------------------------------------

def snapshot(bot: LiveBot) -> dict[str, dict[tuple, dict]]:
    return {table: {tuple(row[k] for k in key): dict(row) for row in bot.rows(f"SELECT * FROM {table}")}
            for table, key in PROTECTED.items()}


def changed(before: dict, after: dict) -> list[tuple[Any, dict | None, dict | None]]:
    return [(key, before.get(key), after.get(key)) for key in before.keys() | after.keys()
            if before.get(key) != after.get(key)]


def trespasses(sender: Any, before: dict, after: dict) -> list[str]:
    """The changes to people's data that `sender` could not have made (see the module docstring)."""
    found = []
    creator = {key[0]: row["creator_id"] for key, row in (before["polls"] | after["polls"]).items()}
    deleted_polls = before["polls"].keys() - after["polls"].keys()
    requests = {key[0]: row for key, row in (before["approvals"] | after["approvals"]).items()}
    approvers = {}
    for (approval_id, _), row in before["approval_approvers"].items():
        approvers.setdefault(approval_id, set()).add(row["user_id"])
    for key, old, new in changed(before["polls"], after["polls"]):
        if creator[key[0]] != sender:
            found.append(f"poll {key[0]} of {creator[key[0]]} changed: {old} -> {new}")
    for key, old, new in changed(before["poll_options"], after["poll_options"]):
        if creator.get(key[0]) != sender:
            found.append(f"option {key} of someone else's poll changed: {old} -> {new}")
    for key, old, new in changed(before["votes"], after["votes"]):
        removed_with_poll = new is None and (key[0],) in deleted_polls and creator[key[0]] == sender
        if key[2] != sender and not removed_with_poll:
            found.append(f"vote {key} of someone else changed: {old} -> {new}")
    for key, old, new in changed(before["approvals"], after["approvals"]):
        may = new is not None and (
            (old is None and new["requester_id"] == sender)
            or (old is not None and (old["requester_id"] == sender or sender in approvers.get(key[0], ()))))
        if not may:
            found.append(f"request {key[0]} changed: {old} -> {new}")
    for key, old, new in changed(before["approval_approvers"], after["approval_approvers"]):
        may = new is not None and (
            (old is None and requests[key[0]]["requester_id"] == sender and (key[0],) not in before["approvals"])
            or (old is not None and old["user_id"] == sender))
        if not may:
            found.append(f"approver {key} changed: {old} -> {new}")
    for key, old, new in changed(before["approval_events"], after["approval_events"]):
        if old is not None or new["actor_id"] not in (sender, ""):
            found.append(f"audit row {key[0]} changed: {old} -> {new}")
    return found


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.records.append(record)


@dataclass
class Fuzz:
    bot: LiveBot
    log: Recorder
    seeded: Seeded | None = None
    builders: dict | None = None
    runs: int = 0
    statuses: Counter = field(default_factory=Counter)

    def fresh(self) -> None:
        self.bot.restart()
        self.seeded = seed(self.bot)
        self.builders = bases(self.bot.connector.url, self.seeded)
        assert not self.log.records, [r.getMessage() for r in self.log.records]

    def example(self, data: st.DataObject) -> list[tuple[str, str]]:
        """Post one mutated activity; the problems found, as (kind, description)."""
        if self.runs % EPOCH == 0:
            self.fresh()
        self.runs += 1
        name = data.draw(st.sampled_from(sorted(self.builders)))
        activity = mutate(data, self.builders[name](data), self.seeded)
        body = encode(activity)
        if data.draw(st.integers(0, 19)) == 0:
            body = broken_bytes(data, body)
        before, version = snapshot(self.bot), self.bot.data_version()
        self.log.records.clear()
        status, answer = self.bot.call(self.bot.post(body))
        self.statuses[status] += 1
        problems = []
        if status >= 500 and not (status == 501 and activity.get("type") == "invoke"):
            problems.append(("answer >= 500", f"answered {status}: {answer[:200]}"))
        for record in self.log.records:
            kind = "traceback in the log" if record.exc_info else "ERROR in the log"
            problems.append((kind, f"{record.name}: {record.getMessage()[:200]}"))
        if 400 <= status < 500:
            if self.bot.data_version() != version:
                problems.append(("4xx that changed data", f"answered {status} but the database changed"))
        else:
            sender = activity["from"].get("id") if isinstance(activity.get("from"), dict) else None
            problems += [("forbidden change", text) for text in trespasses(sender, before, snapshot(self.bot))]
        return [(kind, f"[{name}] {text}\n    body: {body[:300]!r}") for kind, text in problems]


def test_mutated_activities_never_get_500_a_traceback_or_change_what_their_sender_may_not(tmp_path):
    bot, recorder = LiveBot(tmp_path), Recorder()
    logging.getLogger().addHandler(recorder)
    fuzz = Fuzz(bot, recorder)
    problems: list[tuple[str, str]] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one_request(data):
        problems.extend(fuzz.example(data))

    try:
        one_request()
    finally:
        logging.getLogger().removeHandler(recorder)
        bot.close()
    kinds, posted = Counter(kind for kind, _ in problems), fuzz.statuses.total()
    print(f"\n{posted} mutated activities; answers {dict(sorted(fuzz.statuses.items()))}; problems {dict(kinds)}")
    assert not problems, f"{dict(kinds)} in {posted} requests:\n" + "\n".join(text for _, text in problems[:30])
