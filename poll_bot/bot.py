"""The Teams edge: turns activities into plain `Turn`s for the feature routers."""
from __future__ import annotations

import dataclasses
import html
import logging
import re
from http import HTTPStatus

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from . import i18n, payloads
from .features import personal
from .metrics import Metrics
from .router import UNKNOWN_BUTTON, Router
from .signing import ExportLinks
from .store import Store
from .store.models import Conversation
from .turn import MessageEvent, Member, Reactions, TeamEvent, Turn, User, thread_key

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)


class PollBot(TeamsActivityHandler):
    def __init__(self, store: Store, router: Router, metrics: Metrics, renderers: dict[str, personal.ViewsRenderer],
                 links: ExportLinks, double_press_window: float = 1.5):
        self._store = store
        self._links = links
        self._router = router
        self._metrics = metrics
        self._answers = personal.Answers(renderers)  # the presser's view after an invoke
        self._double_press_window = double_press_window

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        self._metrics.turn(activity.type)
        with i18n.using(activity.locale):  # everything this turn writes is in the sender's language
            await self._on_turn(turn_context)

    async def _on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.conversation is not None and activity.service_url:
            sender = activity.from_property.id if activity.from_property else ""
            conversation = conversation_of(activity)
            if not await self._store.record_conversation(conversation, user_initiated(activity), sender):
                # Teams never sends this: a conversation keeps its tenant. Nothing runs, nothing is stored.
                log.warning("refused activity %s: tenant %r is not the tenant of conversation %s",
                            activity.id, conversation.tenant_id, conversation.id)
                if activity.type == ActivityTypes.invoke:
                    _answer_invoke(turn_context, personal.bad_request(
                        i18n._("This conversation belongs to another organisation.")))
                return
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

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Universal Actions (`adaptiveCard/action`) are answered with HTTP 200 and a body, also
        when malformed; every other invoke is not implemented (501), and botbuilder's
        deserializers never see a value the bot does not use."""
        if turn_context.activity.name != "adaptiveCard/action":
            return InvokeResponse(status=int(HTTPStatus.NOT_IMPLEMENTED))
        return _answer_invoke(turn_context, await self._card_action(turn_context.activity))

    async def _card_action(self, activity: Activity) -> dict | bytes:
        """An Action.Execute press (Universal Actions): the same handler as its Action.Submit
        fallback, answered with the presser's own view of the card after the change."""
        try:
            value = payloads.card_action(activity.value)
        except payloads.PayloadError as error:
            log.warning("rejected adaptiveCard/action from %s: %s", activity.from_property.id, error)
            return personal.bad_request(i18n._(UNKNOWN_BUTTON))  # the detail is English, for the log alone
        turn = dataclasses.replace(self._turn(activity), answer_press=self._answers.collect)
        pressed = await self._router.dispatch_action(turn, value)
        if pressed is None:
            return personal.bad_request(i18n._(UNKNOWN_BUTTON))
        return await self._answers.answer(self._store, turn, pressed)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        action = (turn_context.activity.action or "").lower()
        name = {"add": "installed", "add-upgrade": "installed",
                "remove": "uninstalled", "remove-upgrade": "uninstalled"}.get(action, f"installation {action}")
        await self._router.dispatch_event(self._turn(turn_context.activity), name, None)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Members added or removed (the bot itself, or people), and team and channel events."""
        activity = turn_context.activity
        turn = self._turn(activity)
        bot_id = _bot_id(activity)
        changes = (("bot_added", "members_added", activity.members_added or []),
                   ("bot_removed", "members_removed", activity.members_removed or []))
        for bot_event, people_event, accounts in changes:
            if bot_id and any(a.id == bot_id for a in accounts):
                await self._router.dispatch_event(turn, bot_event, None)
            people = members_of(accounts, bot_id)
            if people:
                await self._router.dispatch_event(turn, people_event, people)
        event = _channel_data(activity).get("eventType")
        if event and event not in ("teamMemberAdded", "teamMemberRemoved"):
            await self._router.dispatch_event(turn, event, team_event_of(activity))

    async def on_message_update_activity(self, turn_context: TurnContext) -> None:
        """editMessage (with the edited text) or undeleteMessage, from seed 000."""
        activity = turn_context.activity
        event = _channel_data(activity).get("eventType") or "messageUpdate"
        edit = MessageEvent(activity.id or "", command_text(activity))
        await self._router.dispatch_event(self._turn(activity), event, edit)

    async def on_message_delete_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        event = _channel_data(activity).get("eventType") or "messageDelete"
        await self._router.dispatch_event(self._turn(activity), event, MessageEvent(activity.id or ""))

    async def on_message_reaction_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        reactions = Reactions(
            message_id=activity.reply_to_id or "",
            added=tuple(r.type for r in activity.reactions_added or [] if r.type),
            removed=tuple(r.type for r in activity.reactions_removed or [] if r.type),
        )
        await self._router.dispatch_event(self._turn(activity), "reactions", reactions)

    async def on_event(self, turn_context: TurnContext) -> None:
        log.debug("ignored event %r", turn_context.activity.name)

    async def on_unrecognized_activity_type(self, turn_context: TurnContext) -> None:
        log.debug("ignored activity of type %r", turn_context.activity.type)

    def _turn(self, activity: Activity) -> Turn:
        sender = activity.from_property
        invoked = activity.type == "invoke"
        return Turn(
            # Messages and invokes are handled once per id (Teams may redeliver); events are idempotent.
            activity_id=(activity.id or "") if activity.type == "message" or invoked else "",
            conversation=conversation_of(activity),
            user=User(id=sender.id, name=sender.name or ""),  # "": shown as "Someone"
            store=self._store,
            double_press_window=self._double_press_window,
            mentions=mentions_of(activity),
            timezone=timezone_of(activity),
            invoked=invoked,
            card_message_id=activity.reply_to_id or "",
            links=self._links,
        )


def members_of(accounts: list[ChannelAccount], bot_id: str) -> tuple[Member, ...]:
    """The people among these accounts: the bot and accounts without an id left out."""
    return tuple(Member(a.id, a.name or "", a.aad_object_id or "") for a in accounts if a.id and a.id != bot_id)


def _mentions(activity: Activity) -> list[tuple[str, str, str]]:
    """(id, name, text) of each mention entity naming someone (their types were checked on arrival)."""
    found = []
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = (props.get("mentioned") if entity.type == "mention" else None) or {}
        if mentioned.get("id"):
            found.append((mentioned["id"], mentioned.get("name") or "", props.get("text") or ""))
    return found


def _answer_invoke(turn_context: TurnContext, body: dict | bytes) -> InvokeResponse:
    """Answer the invoke with HTTP 200 and this body (or this JSON, already encoded). Kept where the
    adapter reads it: sent through the turn context, botbuilder would deep-copy the whole card."""
    response = InvokeResponse(status=int(HTTPStatus.OK), body=body)
    turn_context.turn_state[TurnContext._INVOKE_RESPONSE_KEY] = Activity(  # noqa: SLF001
        type=ActivityTypes.invoke_response, value=response)
    return response


def mentions_of(activity: Activity) -> tuple[User, ...]:
    """The people @mentioned, in the order they appear in the text (the bot excluded)."""
    bot_id = _bot_id(activity)
    text = activity.text or ""
    found = []
    for user_id, name, mention_text in _mentions(activity):
        if user_id != bot_id:
            where = text.find(mention_text) if mention_text else -1
            found.append((where if where >= 0 else len(text), User(user_id, name)))
    return tuple(dict.fromkeys(user for _, user in sorted(found, key=lambda pair: pair[0])))


def timezone_of(activity: Activity) -> str:
    """The sender's time zone: clientInfo's IANA name, else the activity's localTimezone, else the
    UTC offset of its localTimestamp ("+02:00"), else UTC."""
    for entity in activity.entities or []:
        if entity.type == "clientInfo":
            zone = (entity.additional_properties or {}).get("timezone")
            if isinstance(zone, str) and zone:
                return zone
    if isinstance(activity.local_timezone, str) and activity.local_timezone:
        return activity.local_timezone
    offset = activity.local_timestamp.utcoffset() if activity.local_timestamp else None
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _bot_id(activity: Activity) -> str:
    return (activity.recipient.id or "") if activity.recipient else ""


def user_initiated(activity: Activity) -> bool:
    """A person acted here (wrote, pressed a button, installed the app), rather than Teams reporting an event."""
    return activity.type == "message" or (
        activity.type == "installationUpdate" and activity.action in ("add", "add-upgrade")
    )


def _channel_data(activity: Activity) -> dict:
    return activity.channel_data or {}  # an object when present: checked on arrival


def _channel_data_part(activity: Activity, key: str) -> tuple[str, str]:
    """(id, name) of channelData.tenant, .team or .channel; '' for what is missing."""
    part = _channel_data(activity).get(key) or {}
    return part.get("id") or "", part.get("name") or ""


def conversation_of(activity: Activity) -> Conversation:
    (tenant_id, _), (team_id, team_name), (channel_of_data, channel_name) = (
        _channel_data_part(activity, key) for key in ("tenant", "team", "channel"))
    conversation_type = activity.conversation.conversation_type or "personal"
    # A channel event's channelData.channel is the event's subject, not this conversation:
    # the conversation's own channel is its id without the reply-chain suffix.
    channel_id = thread_key(activity.conversation.id) if conversation_type == "channel" else ""
    return Conversation(
        id=activity.conversation.id,
        conversation_type=conversation_type,
        tenant_id=tenant_id or activity.conversation.tenant_id or "",
        service_url=activity.service_url,
        name=activity.conversation.name or "",
        team_id=team_id,
        channel_id=channel_id,
        bot_id=_bot_id(activity),
        team_name=team_name,
        channel_name=channel_name if channel_id and channel_of_data == channel_id else "",
        # The language of the latest activity that named one: a 1:1 chat's is its person's.
        locale=i18n.language(activity.locale).tag if activity.locale else "",
    )


def team_event_of(activity: Activity) -> TeamEvent:
    return TeamEvent(*_channel_data_part(activity, "team"), *_channel_data_part(activity, "channel"))


def command_text(activity: Activity) -> str:
    """The typed text without the bot's @mention, entities or non-breaking spaces."""
    text, bot_id = activity.text or "", _bot_id(activity)
    for user_id, _, mention_text in _mentions(activity):
        if bot_id and user_id == bot_id and mention_text:
            text = text.replace(mention_text, "")
    # Other people's mentions stay as their plain names.
    text = _MENTION.sub(r"\1", text)
    return html.unescape(text).replace("\xa0", " ").strip()
