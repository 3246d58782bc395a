"""The Teams edge: turns activities into plain `Turn`s for the feature routers."""
from __future__ import annotations

import html
import logging
import re

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity

from .router import Router
from .store import Store
from .store.models import Conversation
from .turn import Turn, User

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


class PollBot(TeamsActivityHandler):
    def __init__(self, store: Store, router: Router, double_press_window: float = 1.5):
        self._store = store
        self._router = router
        self._double_press_window = double_press_window

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.conversation is not None and activity.service_url:
            sender = activity.from_property.id if activity.from_property else ""
            await self._store.record_conversation(conversation_of(activity), user_initiated(activity), sender)
        await super().on_turn(turn_context)

    async def on_teams_read_receipt_event(self, read_receipt_info, turn_context: TurnContext) -> None:
        await self._router.dispatch_event(self._turn(turn_context.activity), "read_receipt", read_receipt_info)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        turn = self._turn(activity)
        if activity.value is not None:
            await self._router.dispatch_action(turn, activity.value)
        else:
            await self._router.dispatch_text(turn, command_text(activity))

    def _turn(self, activity: Activity) -> Turn:
        sender = activity.from_property
        return Turn(
            activity_id=activity.id or "",
            conversation=conversation_of(activity),
            user=User(id=sender.id, name=sender.name or "Someone"),
            store=self._store,
            double_press_window=self._double_press_window,
            mentions=mentions_of(activity),
            timezone=timezone_of(activity),
        )


def mentions_of(activity: Activity) -> tuple[User, ...]:
    """The people @mentioned, in the order they appear in the text (the bot excluded)."""
    bot_id = activity.recipient.id if activity.recipient else None
    text = activity.text or ""
    found = []
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") if entity.type == "mention" else None
        if isinstance(mentioned, dict) and mentioned.get("id") and mentioned["id"] != bot_id:
            where = text.find(props.get("text") or "\0")
            found.append((where if where >= 0 else len(text), User(mentioned["id"], mentioned.get("name") or "Someone")))
    return tuple(dict.fromkeys(user for _, user in sorted(found, key=lambda pair: pair[0])))


def timezone_of(activity: Activity) -> str:
    for entity in activity.entities or []:
        if entity.type == "clientInfo":
            zone = (entity.additional_properties or {}).get("timezone")
            if isinstance(zone, str) and zone:
                return zone
    return "UTC"


def user_initiated(activity: Activity) -> bool:
    """A person acted here (wrote, pressed a button, installed the app), rather than Teams reporting an event."""
    return activity.type == "message" or (
        activity.type == "installationUpdate" and activity.action in ("add", "add-upgrade")
    )


def conversation_of(activity: Activity) -> Conversation:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (data.get("tenant") or {}).get("id") or activity.conversation.tenant_id or ""
    return Conversation(
        id=activity.conversation.id,
        conversation_type=activity.conversation.conversation_type or "personal",
        tenant_id=tenant,
        service_url=activity.service_url,
        name=activity.conversation.name or "",
        team_id=(data.get("team") or {}).get("id", ""),
        channel_id=(data.get("channel") or {}).get("id", ""),
        bot_id=activity.recipient.id if activity.recipient else "",
    )


def command_text(activity: Activity) -> str:
    """The typed text without the bot's @mention, entities or non-breaking spaces."""
    if activity.recipient is not None and activity.entities:
        TurnContext.remove_recipient_mention(activity)
    # Other people's mentions stay as their plain names.
    text = _MENTION.sub(r"\1", activity.text or "")
    return html.unescape(text).replace("\xa0", " ").strip()
