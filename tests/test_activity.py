"""The fast Activity builder produces what msrest's deserializer produces."""
from __future__ import annotations

import json

import pytest
from botbuilder.schema import Activity

from poll_bot.activity import activity_from_json
from tests.support import teams

SERVICE = "https://smba.trafficmanager.net/amer/"


def shapes() -> dict[str, dict]:
    personal, channel, group = teams.personal_chat(), teams.channel_thread(), teams.group_chat()
    submit = teams.submit(channel, teams.ALEX, {"v": 1, "verb": "poll.vote", "poll": 3, "option": 1}, "1000", SERVICE)
    return {
        "seed personal message": teams.seed("seed001_personal_message.json"),
        "channel message with mention": teams.message(channel, teams.MEGAN, "poll a | b | c", SERVICE),
        "group chat message": teams.message(group, teams.PAT, "help", SERVICE),
        "card submit": submit,
        "members added": {
            "type": "conversationUpdate", "id": "f:1", "serviceUrl": SERVICE, "channelId": "msteams",
            "timestamp": "2022-10-28T17:19:39.4615413Z",
            "from": {"id": "29:x"}, "recipient": teams.BOT, "conversation": personal.conversation,
            "membersAdded": [{"id": "29:a", "name": "A"}, {"id": teams.BOT["id"]}],
            "channelData": {"tenant": {"id": teams.TENANT}, "eventType": "teamMemberAdded"},
        },
        "nulls and unknown keys": {"type": "message", "text": None, "replyToId": None, "someNewField": {"x": [1]},
                                   "from": {"id": "29:y", "role": "user", "unknownInside": True},
                                   "conversation": {"id": "c", "isGroup": False}, "serviceUrl": SERVICE},
    }


@pytest.mark.parametrize("name", list(shapes()))
def test_same_activity_as_msrest(name):
    body = shapes()[name]
    fast, reference = activity_from_json(json.loads(json.dumps(body))), Activity().deserialize(body)
    assert fast.as_dict() == reference.as_dict()
    assert fast.serialize() == reference.serialize()
    assert fast.additional_properties == reference.additional_properties
    for attr in ("from_property", "recipient", "conversation"):
        fast_part, ref_part = getattr(fast, attr), getattr(reference, attr)
        assert type(fast_part) is type(ref_part)
        if ref_part is not None:
            assert fast_part.additional_properties == ref_part.additional_properties
    for fast_entity, ref_entity in zip(fast.entities or [], reference.entities or []):
        assert type(fast_entity) is type(ref_entity)
        assert fast_entity.additional_properties == ref_entity.additional_properties
    assert fast.timestamp == reference.timestamp
