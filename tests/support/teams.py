"""Teams-shaped activities built from the seed payloads in tests/payloads/."""
from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
_ids = itertools.count(1_700_000_000_000)


def seed(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


_PERSONAL = seed("seed001_personal_message.json")
_CHANNEL_DATA = seed("seed001_channel_data.json")
BOT = _PERSONAL["recipient"]
TENANT = _PERSONAL["channelData"]["tenant"]["id"]


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    aad: str = ""

    def account(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad}


MEGAN = Person(_PERSONAL["from"]["id"], _PERSONAL["from"]["name"], _PERSONAL["from"]["aadObjectId"])
ALEX = Person("29:1alex-wilber-teams-id", "Alex Wilber", "a1b2c3d4-0000-4000-8000-000000000001")
PAT = Person("29:1pat-fernandez-teams-id", "Patti Fernandez", "a1b2c3d4-0000-4000-8000-000000000002")


@dataclass(frozen=True)
class Chat:
    """A conversation as Teams would describe it in inbound activities."""
    conversation: dict[str, Any]
    channel_data: dict[str, Any]
    mention_bot: bool

    @property
    def id(self) -> str:
        return self.conversation["id"]


def personal_chat(user: Person = MEGAN) -> Chat:
    conversation = copy.deepcopy(_PERSONAL["conversation"])
    if user != MEGAN:
        conversation["id"] = "a:1personal-" + user.id.split(":", 1)[1]
    return Chat(conversation, copy.deepcopy(_PERSONAL["channelData"]), mention_bot=False)


def channel_thread(root_message_id: str = "1485983408511") -> Chat:
    channel = _CHANNEL_DATA["channel"]["id"]
    data = {k: v for k, v in copy.deepcopy(_CHANNEL_DATA).items() if k != "eventType"}
    data["source"] = {"name": "message"}
    conversation = {"conversationType": "channel", "isGroup": True, "tenantId": TENANT,
                    "id": f"{channel};messageid={root_message_id}"}
    return Chat(conversation, data, mention_bot=True)


def group_chat() -> Chat:
    conversation = {"conversationType": "groupChat", "isGroup": True, "tenantId": TENANT,
                    "id": "19:meeting_group-chat-lunch@thread.v2"}
    return Chat(conversation, {"tenant": {"id": TENANT}}, mention_bot=True)


def message(chat: Chat, user: Person, text: str, service_url: str,
            mentioning: tuple[Person, ...] = ()) -> dict[str, Any]:
    """A typed message; `<at>Name</at>` in text for each person in `mentioning` becomes a mention."""
    activity = copy.deepcopy(_PERSONAL)
    activity.pop("attachments", None)
    activity.update(
        id=str(next(_ids)), serviceUrl=service_url, conversation=copy.deepcopy(chat.conversation),
        channelData=copy.deepcopy(chat.channel_data), text=text,
    )
    activity["from"] = user.account()
    if chat.mention_bot:
        mention = f"<at>{BOT['name']}</at>"
        activity["text"] = f"{mention} {text}"
        activity["entities"] = [
            {"type": "mention", "text": mention, "mentioned": {"id": BOT["id"], "name": BOT["name"]}},
            *activity["entities"],
        ]
    activity["entities"][:0] = [{"type": "mention", "text": f"<at>{person.name}</at>",
                                 "mentioned": {"id": person.id, "name": person.name}} for person in mentioning]
    return activity


def submit(chat: Chat, user: Person, value: dict[str, Any], reply_to_id: str | None,
           service_url: str) -> dict[str, Any]:
    """What Teams posts when a user presses an Action.Submit button on a card."""
    activity = message(chat, user, "", service_url)
    activity.pop("text")
    activity["entities"] = [e for e in activity["entities"] if e["type"] != "mention"]
    activity["value"] = value
    activity["replyToId"] = reply_to_id
    return activity
