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
    locale: str = "en-US"  # their Teams client's language: each activity's `locale` and clientInfo's

    def account(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad}


MEGAN = Person(_PERSONAL["from"]["id"], _PERSONAL["from"]["name"], _PERSONAL["from"]["aadObjectId"])
ALEX = Person("29:1alex-wilber-teams-id", "Alex Wilber", "a1b2c3d4-0000-4000-8000-000000000001")
PAT = Person("29:1pat-fernandez-teams-id", "Patti Fernandez", "a1b2c3d4-0000-4000-8000-000000000002")
LEE = Person("29:1lee-gu-teams-id", "Lee Gu", "a1b2c3d4-0000-4000-8000-000000000003")


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


TEAM = {"id": _CHANNEL_DATA["team"]["id"], "name": "Contoso Sales"}
GENERAL = {"id": _CHANNEL_DATA["channel"]["id"], "name": "General"}  # a team's General channel has the team's id
PLANNING = {"id": "19:planning-channel-0001@thread.skype", "name": "Planning"}


def channel_thread(root_message_id: str = "1485983408511", channel: dict | None = None, named: bool = True,
                   team: dict | None = None, tenant: str = TENANT) -> Chat:
    """A reply chain in a channel of TEAM (the General channel unless told). Teams' messages carry
    only the team's and channel's ids (named=False); its team and channel events carry the names too."""
    channel, team = channel or GENERAL, team or TEAM
    data = {k: v for k, v in copy.deepcopy(_CHANNEL_DATA).items() if k != "eventType"}
    data.update(source={"name": "message"}, team=dict(team) if named else {"id": team["id"]},
                channel=dict(channel) if named else {"id": channel["id"]}, tenant={"id": tenant})
    conversation = {"conversationType": "channel", "isGroup": True, "tenantId": tenant,
                    "id": f"{channel['id']};messageid={root_message_id}"}
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
    activity["locale"] = user.locale
    for entity in activity["entities"]:
        if entity["type"] == "clientInfo":
            entity["locale"] = user.locale
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


def invoke(chat: Chat, user: Person, data: dict[str, Any], reply_to_id: str | None, service_url: str,
           trigger: str = "manual") -> dict[str, Any]:
    """What Teams posts when a user presses an Action.Execute button (or a card refreshes itself:
    trigger "automatic"): an `adaptiveCard/action` invoke in the message seed's envelope, its value
    as reference/teams-platform.md gives it. Card inputs are merged into `data`."""
    activity = submit(chat, user, {}, reply_to_id, service_url)
    for key in ("value", "textFormat", "attachments"):
        activity.pop(key, None)
    activity.update(type="invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": data.get("verb"), "data": data}, "trigger": trigger})
    return activity


# Events (seeds 000, 001 and 004) ------------------------------------------------------

def _event_from(seed_name: str, chat: Chat, user: Person, service_url: str, **changes: Any) -> dict[str, Any]:
    """A seed's event payload moved into `chat`, from `user`."""
    activity = seed(seed_name)
    activity.update(serviceUrl=service_url, conversation=copy.deepcopy(chat.conversation), **changes)
    activity["from"] = user.account()
    activity["recipient"] = dict(BOT)
    activity["channelData"] = {**copy.deepcopy(chat.channel_data), "eventType": activity["channelData"]["eventType"]}
    activity["channelData"].pop("source", None)
    return activity


def edited(chat: Chat, user: Person, message_id: str, text: str, service_url: str) -> dict[str, Any]:
    """Seed 000's editMessage; the seed omits the text, which Teams sends as the message's new text."""
    return _event_from("seed000_editMessage.json", chat, user, service_url, id=message_id, text=text)


def soft_deleted(chat: Chat, user: Person, message_id: str, service_url: str) -> dict[str, Any]:
    return _event_from("seed000_softDeleteMessage.json", chat, user, service_url, id=message_id)


def undeleted(chat: Chat, user: Person, message_id: str, text: str, service_url: str) -> dict[str, Any]:
    return _event_from("seed000_undeleteMessage.json", chat, user, service_url, id=message_id, text=text)


def read_receipt(chat: Chat, user: Person, last_read_id: str, service_url: str) -> dict[str, Any]:
    activity = seed("seed001_read_receipt.json")
    activity.update(serviceUrl=service_url, conversation=copy.deepcopy(chat.conversation),
                    channelData=copy.deepcopy(chat.channel_data), value={"lastReadMessageId": last_read_id},
                    recipient=dict(BOT))
    activity["from"] = user.account()
    return activity


def _conversation_event(chat: Chat, user: Person, service_url: str, activity_type: str,
                        event_type: str | None = None, **fields: Any) -> dict[str, Any]:
    """Seed 004's events have no JSON in the seed: the message seed's envelope with the
    documented type, eventType and fields (channelData.team/channel as in seed 001's example)."""
    activity = message(chat, user, "", service_url)
    for key in ("text", "textFormat", "attachments", "entities", "localTimestamp", "localTimezone", "locale"):
        activity.pop(key, None)
    activity["type"] = activity_type
    activity["channelData"].pop("source", None)
    if event_type:
        activity["channelData"]["eventType"] = event_type
    activity.update(fields)
    return activity


def installation(chat: Chat, user: Person, action: str, service_url: str) -> dict[str, Any]:
    return _conversation_event(chat, user, service_url, "installationUpdate", action=action)


def members_changed(chat: Chat, user: Person, service_url: str, added: tuple = (), removed: tuple = ()) -> dict[str, Any]:
    """membersAdded / membersRemoved: Person values, or "bot" for the bot itself."""
    def accounts(people):
        return [dict(BOT) if p == "bot" else {"id": p.id, "aadObjectId": p.aad} for p in people]
    in_team = "team" in chat.channel_data
    event_type = ("teamMemberAdded" if added else "teamMemberRemoved") if in_team else None
    fields = {"membersAdded": accounts(added)} if added else {"membersRemoved": accounts(removed)}
    return _conversation_event(chat, user, service_url, "conversationUpdate", event_type, **fields)


def team_event(chat: Chat, user: Person, event_type: str, service_url: str, team: dict | None = None,
               channel: dict | None = None) -> dict[str, Any]:
    """channelCreated/Deleted/Renamed/Restored and teamArchived/Deleted/Renamed/Restored/Unarchived.
    Teams sends them in the team's General channel; channelData names the team and the channel."""
    activity = _conversation_event(chat, user, service_url, "conversationUpdate", event_type)
    activity["conversation"] = {"conversationType": "channel", "isGroup": True, "tenantId": TENANT,
                                "id": GENERAL["id"]}
    activity["channelData"]["team"] = dict(team or TEAM)
    if channel is not None:
        activity["channelData"]["channel"] = dict(channel)
    else:
        activity["channelData"].pop("channel", None)
    return activity


def reaction(chat: Chat, user: Person, reply_to_id: str, service_url: str, added: tuple = (),
             removed: tuple = ()) -> dict[str, Any]:
    activity = _conversation_event(chat, user, service_url, "messageReaction", replyToId=reply_to_id)
    if added:
        activity["reactionsAdded"] = [{"type": t} for t in added]
    if removed:
        activity["reactionsRemoved"] = [{"type": t} for t in removed]
    return activity
