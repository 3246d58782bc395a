"""Where a poll or request is, as people know the conversation."""
from __future__ import annotations

from ..i18n import _
from ..store.models import Conversation


def place(conversation: Conversation | None) -> str:
    """A conversation as people know it: "Team › Channel", a group chat's name, or our 1:1 chat."""
    if conversation is None:
        return _("a chat I'm no longer in")
    if conversation.conversation_type == "personal":
        return _("our 1:1 chat")
    if conversation.conversation_type == "channel":
        general = conversation.channel_id == conversation.team_id
        channel = conversation.channel_name or (_("General") if general else _("a channel"))
        team = conversation.team_name or _("a team")  # outside the f-string, where pybabel finds it
        return f"{team} › {channel}"
    return conversation.name or _("a group chat")
