"""What the bot does when it is installed or removed, when teams and channels
change, and when people join or leave (seed 004's conversation events).

Scope: a team's events concern every conversation of the team (each channel
reply chain is a conversation of its own); a chat's concern the chat.
"""
from __future__ import annotations

from dataclasses import replace

from ..outbound.limits import tenant_scope, thread_scopes
from ..router import Router
from ..store import UnitOfWork
from ..turn import Member, TeamEvent, Turn, thread_key
from . import approvals, polls
from .prompts import welcome

router = Router()


def _scope_id(turn: Turn) -> str:
    return turn.conversation.team_id or thread_key(turn.conversation.id)


def _scope(uow: UnitOfWork, turn: Turn) -> list[str]:
    team_id = turn.conversation.team_id
    return uow.conversations.of_team(team_id) if team_id else uow.conversations.of_chat(turn.conversation.id)


# Installed and removed -------------------------------------------------------------

@router.event("installed")
@router.event("bot_added")
async def installed(turn: Turn, _value: None) -> None:
    """installationUpdate add and the bot's own membersAdded both arrive: one welcome between them."""
    await turn.store.run(_welcome_once, turn)


def _welcome_once(uow: UnitOfWork, turn: Turn) -> None:
    if uow.conversations.first_installation(_scope_id(turn)):
        welcome(uow, turn)


@router.event("uninstalled")
@router.event("bot_removed")
@router.event("teamDeleted")
@router.event("teamHardDeleted")
async def removed(turn: Turn, _value: object) -> None:
    """Privacy: when the bot leaves a team or chat, or the team is deleted, nothing of it stays."""
    await turn.store.run(_erase, turn)


def _erase(uow: UnitOfWork, turn: Turn) -> None:
    ids = _scope(uow, turn)
    if ids:
        # Copies in other chats (approvers' 1:1 copies, notices to the requester) go too.
        elsewhere = uow.cards.showing_subjects_of(ids)
        polls.remove_messages(uow, elsewhere + uow.cards.in_conversations(ids))
        for card in elsewhere:
            uow.cards.delete(card.id)
        uow.activities.forget_conversations(ids)
        uow.conversations.erase(ids)
        _forget_budgets(uow, ids, turn.conversation.tenant_id)
    uow.conversations.forget_installation(_scope_id(turn))


def _forget_budgets(uow: UnitOfWork, ids: list[str], tenant_id: str) -> None:
    """The rate log of these conversations' threads, and their tenant's once no conversation of it is left."""
    scopes = [scope for thread in {thread_key(c) for c in ids} for scope in thread_scopes(thread)]
    if not uow.conversations.in_tenant(tenant_id):
        scopes.append(tenant_scope(tenant_id))
    uow.budget.forget(scopes)


@router.event("teamRestored")
async def team_restored(turn: Turn, _event: TeamEvent) -> None:
    """Nothing to bring back: a deleted team's data was erased. The bot starts afresh when used."""


@router.event("channelCreated")
@router.event("channelRenamed")
async def channel_named(turn: Turn, event: TeamEvent) -> None:
    """Remember the channel's name (its messages carry none) for "my open polls". The bot posts
    nothing in a new channel: it speaks when spoken to."""
    await turn.store.run(_name_channel, turn, event)


def _name_channel(uow: UnitOfWork, turn: Turn, event: TeamEvent) -> None:
    if not event.channel_id:
        return
    thread = replace(turn.conversation, id=event.channel_id, channel_id=event.channel_id, name="",
                     channel_name=event.channel_name, team_id=event.team_id or turn.conversation.team_id)
    uow.conversations.upsert(thread, reactivate=False)
    uow.conversations.rename_channel(event.channel_id, event.channel_name)


# Archived teams and deleted channels ---------------------------------------------------

@router.event("teamArchived")
async def team_archived(turn: Turn, event: TeamEvent) -> None:
    await turn.store.run(_archive, event.team_id or turn.conversation.team_id)


def _archive(uow: UnitOfWork, team_id: str) -> None:
    """Stop posting there (queued work waits) and refuse votes: the team is read-only."""
    uow.conversations.suspend(uow.conversations.of_team(team_id), "team_archived")


@router.event("teamUnarchived")
async def team_unarchived(turn: Turn, event: TeamEvent) -> None:
    await turn.store.run(_unarchive, event.team_id or turn.conversation.team_id)


def _unarchive(uow: UnitOfWork, team_id: str) -> None:
    for conversation_id in uow.conversations.resume(uow.conversations.of_team(team_id), "team_archived"):
        uow.outbox.wake(conversation_id)


@router.event("channelDeleted")
async def channel_deleted(turn: Turn, event: TeamEvent) -> None:
    await turn.store.run(_channel_deleted, event.channel_id)


def _channel_deleted(uow: UnitOfWork, channel_id: str) -> None:
    ids = uow.conversations.of_channel(channel_id)
    if ids:
        uow.conversations.suspend(ids, "channel_deleted")
        polls.close_for_deleted_channel(uow, ids)
        approvals.close_for_deleted_channel(uow, ids)


@router.event("channelRestored")
async def channel_restored(turn: Turn, event: TeamEvent) -> None:
    await turn.store.run(_channel_restored, event.channel_id)


def _channel_restored(uow: UnitOfWork, channel_id: str) -> None:
    ids = uow.conversations.of_channel(channel_id)
    if ids:
        for conversation_id in uow.conversations.resume(ids, "channel_deleted"):
            uow.outbox.wake(conversation_id)
        polls.reopen_for_restored_channel(uow, ids)
        approvals.reopen_for_restored_channel(uow, ids)


# Renames --------------------------------------------------------------------------------

@router.event("teamRenamed")
async def team_renamed(turn: Turn, event: TeamEvent) -> None:
    await turn.store.run(lambda uow: uow.conversations.rename_team(event.team_id, event.team_name))


# People joining and leaving: the roster stays current, quietly ----------------------------

@router.event("members_added")
async def members_added(turn: Turn, people: tuple[Member, ...]) -> None:
    await turn.store.run(_members_added, turn, people)


def _members_added(uow: UnitOfWork, turn: Turn, people: tuple[Member, ...]) -> None:
    # Only rosters the bot has read: a partial roster would hide everyone else from the pickers.
    rostered = uow.people.with_roster(_scope(uow, turn))
    if rostered:
        for person in people:
            uow.people.add_member(rostered, person.id, person.name, person.aad_object_id)
    polls.members_changed(uow, rostered)


@router.event("members_removed")
async def members_removed(turn: Turn, people: tuple[Member, ...]) -> None:
    await turn.store.run(_members_removed, turn, people)


def _members_removed(uow: UnitOfWork, turn: Turn, people: tuple[Member, ...]) -> None:
    ids = _scope(uow, turn)
    if not ids:
        return
    for person in people:
        uow.people.remove_member(ids, person.id)
        approvals.approver_left(uow, ids, person.id, turn.conversation.id)
    polls.members_changed(uow, ids)
