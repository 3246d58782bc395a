"""Polls: the `poll` command, the creation form, votes (on the card or by a
quick reply in a 1:1 chat), close, reopen and delete, and what happens when
the user edits or deletes the `poll ...` message that created a poll.

Each handler runs one transaction script (a plain function of the unit of
work) through `turn.run_once`, which also drops redelivered activities.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from .. import i18n
from ..cards import MAX_REFRESH_USERS, Viewer, card_message, render_card
from ..domain import polls as rules
from ..domain.approvals import Person
from ..domain.times import stored
from ..i18n import N_, _, name_or_someone
from ..payloads import PollAddOption, PollEdit, PollFormSubmit, PollRef, PollVote
from ..router import Router
from ..store import UnitOfWork
from ..store.models import Card, Poll
from ..turn import MessageEvent, Turn, message_privately, text_message, with_suggestions
from .forms import open_form, submit_form
from .places import place
from .poll_views import (WHO_VOTED_PER_OPTION, Participation, PollViewer, poll_form_view, poll_view,
                         result_message)

router = Router()

EXAMPLE = N_("poll Lunch on Friday? | Pizza | Sushi | Tacos")
ROSTER_READ = "poll_roster_read"  # the outbox follow-up once a conversation's members are read
MAX_QUICK_REPLIES = 6  # Teams shows at most six suggested actions
GONE = N_("This poll no longer exists, so nothing was changed.")
ELSEWHERE = N_("That poll isn't in this conversation, so nothing was changed.")
# Why only the creator may do it, by what the press would have done.
ONLY_THE_CREATOR = {
    "close": N_("Only %(name)s, who created this poll, can close it."),
    "reopen": N_("Only %(name)s, who created this poll, can reopen it."),
    "edit": N_("Only %(name)s, who created this poll, can edit it."),
    "export": N_("Only %(name)s, who created this poll, can export its results."),
    "delete": N_("Only %(name)s, who created this poll, can delete it."),
    "remind": N_("Only %(name)s, who created this poll, can remind people to vote."),
}
# Why a poll takes no votes, new options or edits now, by what the press would have done.
NOT_OPEN = {
    "vote": {"withdrawn": N_("This poll was withdrawn, so your vote was not recorded."),
             "closed": N_("This poll is closed, so your vote was not recorded."),
             "past": N_("This poll closed at its closing time, so your vote was not recorded.")},
    "add": {"withdrawn": N_("This poll was withdrawn, so no option was added."),
            "closed": N_("This poll is closed, so no option was added."),
            "past": N_("This poll closed at its closing time, so no option was added.")},
    "edit": {"withdrawn": N_("This poll was withdrawn, so I kept it as it was."),
             "closed": N_("This poll is closed, so I kept it as it was. Reopen it to edit it."),
             "past": N_("This poll closed at its closing time, so I kept it as it was.")},
}


@router.command("poll")
@router.command("new poll")
async def poll_command(turn: Turn, args: str) -> None:
    await turn.run_once(_poll_command, args)


def _poll_command(uow: UnitOfWork, turn: Turn, args: str) -> None:
    if not args:
        open_form(uow, turn, "poll_form")
        return
    try:
        draft = rules.draft_from_command(args, _now(), turn.timezone)
    except rules.PollInputError as error:
        turn.reply(uow, _("I couldn't create that poll. %(problem)s", problem=error) + "\n"
                   + _("Example: %(example)s", example=_(EXAMPLE)))
        return
    _post_poll(uow, turn, draft, command_message_id=turn.activity_id or None)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@router.action("poll.create", PollFormSubmit)
async def create_from_form(turn: Turn, submitted: PollFormSubmit) -> None:
    await turn.run_once(_submit_form, submitted)


def _submit_form(uow: UnitOfWork, turn: Turn, submitted: PollFormSubmit) -> None:
    def post() -> dict[str, Any]:
        inputs = {name: value for name, value in asdict(submitted).items() if name != "card"}
        draft = rules.draft_from_form(**inputs, now=_now(), zone_name=turn.timezone)
        return {"question": draft.question, "poll_id": _post_poll(uow, turn, draft)}

    submit_form(uow, turn, submitted, "poll_form", "poll", post)


def _post_poll(uow: UnitOfWork, turn: Turn, draft: rules.PollDraft, command_message_id: str | None = None) -> int:
    poll_id = uow.polls.create(turn.conversation.id, turn.user.id, turn.user.name, draft, command_message_id)
    card_id = uow.cards.create(turn.conversation.id, "poll", i18n.current(), subject_id=poll_id)
    uow.outbox.enqueue(turn.conversation.id, "send_card", card_id=card_id)
    if turn.conversation.conversation_type == "personal":
        _offer_options(uow, uow.polls.get(poll_id), card_id)
    elif not uow.people.with_roster([turn.conversation.id]):
        # For "12 of 40 members voted": the card shows it once the roster is read.
        uow.outbox.enqueue(turn.conversation.id, "fetch_members", body={"then": {"kind": ROSTER_READ}})
    return poll_id


def _offer_options(uow: UnitOfWork, poll: Poll, card_id: int) -> None:
    """In a 1:1 chat, a poll's options also come as quick replies on a text under the card."""
    if len(poll.options) > MAX_QUICK_REPLIES:
        return
    uow.polls.offer(poll.conversation_id, poll.id)
    labels = [o.label for o in poll.options]
    uow.outbox.enqueue(poll.conversation_id, "send_message", card_id=card_id,
                       body=with_suggestions(_("Tap an option to vote: %(question)s", question=poll.question), labels))


@router.before_commands
async def vote_by_quick_reply(turn: Turn, text: str) -> bool:
    """A tapped quick reply arrives as the option's text; it votes like the card's button."""
    if turn.conversation.conversation_type != "personal" or not text:
        return False
    pressed = await turn.store.run(_offered_option, turn.conversation.id, text)
    if pressed is None:
        return False
    await turn.run_once(_typed_vote, pressed)
    return True


def _typed_vote(uow: UnitOfWork, turn: Turn, pressed: PollVote) -> None:
    """A vote typed (or tapped as a quick reply) gets a one-line confirmation; the card shows it too."""
    chosen = _vote(uow, turn, pressed)
    if chosen is None:
        return
    label = uow.polls.get(pressed.poll).option_label(pressed.option)
    turn.reply(uow, _("Your vote: %(option)s.", option=label) if pressed.option in chosen
               else _("You took back your vote for %(option)s.", option=label))


def _offered_option(uow: UnitOfWork, conversation_id: str, text: str) -> PollVote | None:
    poll = uow.polls.offered(conversation_id)
    if poll is None or not poll.is_open:
        return None
    chosen = next((o for o in poll.options if o.label.casefold() == text.strip().casefold()), None)
    return PollVote(poll=poll.id, option=chosen.position) if chosen else None


@router.action("poll.vote", PollVote)
async def vote(turn: Turn, pressed: PollVote) -> None:
    await turn.run_once(_vote, pressed)


def _vote(uow: UnitOfWork, turn: Turn, pressed: PollVote) -> frozenset[int] | None:
    """Record the press; the voter's choices after it, or None when it was refused."""
    # Closing or editing the poll waits until this vote is in; the voter's own turns wait for each other (Turn._once).
    poll, current = uow.polls.get_with_choices(pressed.poll, turn.user.id, for_share=True)
    if not _may_vote(uow, turn, poll, pressed.option):
        return None
    try:
        chosen = rules.next_choices(poll.multiple_choice, current, pressed.option, poll.max_choices)
    except rules.PollInputError as error:
        turn.refuse(uow, str(error))
        return None
    for position in current - chosen:
        uow.polls.remove_vote(poll, position, turn.user.id)
    for position in chosen - current:
        uow.polls.add_vote(poll, position, turn.user.id, turn.user.name)
    _refresh_poll_cards(uow, poll.id)
    return chosen


def _may_vote(uow: UnitOfWork, turn: Turn, poll: Poll | None, option: int) -> bool:
    """Whether the press may count; if not, the presser is told why."""
    if poll is None or not turn.same_thread(poll.conversation_id):
        turn.refuse(uow, _(ELSEWHERE if poll else GONE))
        return False
    if not _open_to(uow, turn, poll, "vote"):
        return False
    if option < poll.options[0].position:  # options before the first were replaced by an edit
        turn.refuse(uow, _("This poll was edited after your card was shown, so your vote was not recorded. "
                           "Vote again on the card as it is now."))
        return False
    if not poll.has_option(option):
        turn.refuse(uow, _("That option isn't on this poll, so nothing was changed."))
        return False
    return True


def _open_to(uow: UnitOfWork, turn: Turn, poll: Poll, doing: str) -> bool:
    """Whether the poll takes votes, new options or edits (`doing`) now; if not, the presser is
    told why, except on a read-only poll: its team is archived or its channel deleted."""
    reason = _not_open(poll)
    if reason in NOT_OPEN[doing]:
        turn.refuse(uow, _(NOT_OPEN[doing][reason]))
    return reason is None


def _not_open(poll: Poll) -> str | None:
    """Why the poll takes nothing now: "read_only", or a key of NOT_OPEN's tables; None while it does."""
    if poll.read_only:
        return "read_only"
    if poll.withdrawn:
        return "withdrawn"
    if not poll.is_open:
        return "closed"
    if rules.is_past(poll.closes_at, _now()):  # the timer has not closed it yet
        return "past"
    return None


@router.action("poll.refresh", PollRef)
async def refresh(turn: Turn, ref: PollRef) -> None:
    """Teams asks for this person's view of the card (Universal Actions refresh): nothing changes."""
    await turn.store.run(_poll_here, turn, ref.poll)


def _poll_here(uow: UnitOfWork, turn: Turn, poll_id: int) -> Poll | None:
    """The poll, if it is in this conversation; else the presser is told why not."""
    poll = uow.polls.get(poll_id)
    if poll is None or not turn.same_thread(poll.conversation_id):
        turn.refuse(uow, _(ELSEWHERE if poll else GONE))
        return None
    return poll


@router.action("poll.close", PollRef)
async def close(turn: Turn, ref: PollRef) -> None:
    await turn.run_once(_close, ref.poll)


@router.action("poll.reopen", PollRef)
async def reopen(turn: Turn, ref: PollRef) -> None:
    await turn.run_once(_reopen, ref.poll)


def _creators_poll(uow: UnitOfWork, turn: Turn, poll_id: int, doing: str) -> Poll | None:
    """The poll, if it is in this conversation and the presser created it; else they are told why not."""
    poll = _poll_here(uow, turn, poll_id)
    if poll is not None and not rules.may_manage(poll.creator_id, turn.user.id):
        turn.refuse(uow, _(ONLY_THE_CREATOR[doing], name=name_or_someone(poll.creator_name)))
        return None
    return poll


def _close(uow: UnitOfWork, turn: Turn, poll_id: int) -> None:
    poll = _creators_poll(uow, turn, poll_id, "close")
    if poll is None:
        return
    _refresh_poll_cards(uow, poll.id)
    if uow.polls.close(poll.id):
        _announce_result(uow, poll.id)


def _reopen(uow: UnitOfWork, turn: Turn, poll_id: int) -> None:
    poll = _creators_poll(uow, turn, poll_id, "reopen")
    if poll is None:
        return
    if uow.polls.reopen(poll.id) and rules.is_past(poll.closes_at, _now()):
        uow.polls.set_deadline(poll.id, None)  # else the timer would close it again at once
    _refresh_poll_cards(uow, poll.id)


def _announce_result(uow: UnitOfWork, poll_id: int) -> None:
    """A poll that closes says its result in its thread: the winner or the tie, and the count; in
    the language of its card (its creator's), also when the timer closes it."""
    poll = uow.polls.get(poll_id)
    home = uow.cards.in_conversation("poll", poll.id, poll.conversation_id)
    with i18n.using(home.locale if home else i18n.current()):
        text = result_message(poll, uow.polls.results(poll.id, poll.multiple_choice))
    uow.outbox.enqueue(poll.conversation_id, "send_message", card_id=home.id if home else None,
                       body=text_message(text))


CLOSING_BATCH = 200  # polls closed per transaction, so turns are not held up behind a long catch-up


def close_due(uow: UnitOfWork, now: datetime) -> bool:
    """The timer: close every open poll whose closing time has come (also those that came while
    the bot was down). True if there may be more. Each poll is closed once, however many timers
    run: the loser of a race finds it closed already."""
    due = uow.polls.due(stored(now), CLOSING_BATCH)
    for poll_id in due:
        if uow.polls.close(poll_id, reason="deadline"):
            _refresh_poll_cards(uow, poll_id)
            _announce_result(uow, poll_id)
    return len(due) == CLOSING_BATCH


@router.action("poll.add_option", PollAddOption)
async def add_option(turn: Turn, pressed: PollAddOption) -> None:
    await turn.run_once(_add_option, pressed)


def _add_option(uow: UnitOfWork, turn: Turn, pressed: PollAddOption) -> None:
    """"Add an option" on the card: its creator, or anyone on a poll posted with --add-options."""
    uow.polls.lock(pressed.poll, exclusive=True)  # two additions at once must not both take the same place
    poll = _poll_here(uow, turn, pressed.poll)
    if poll is None:
        return
    if not rules.may_add_options(poll.creator_id, poll.anyone_adds, turn.user.id):
        turn.refuse(uow, _("Only %(name)s, who created this poll, can add options to it.",
                           name=name_or_someone(poll.creator_name)))
        return
    if not _open_to(uow, turn, poll, "add"):
        return
    try:
        label = rules.new_option(tuple(o.label for o in poll.options), pressed.new_option)
    except rules.PollInputError as error:
        turn.refuse(uow, _("I didn't add that option. %(problem)s", problem=error))
        return
    uow.polls.add_options(poll.id, [label])
    _refresh_poll_cards(uow, poll.id)
    _offer_again(uow, poll.id)


@router.action("poll.edit", PollEdit)
async def edit_on_card(turn: Turn, pressed: PollEdit) -> None:
    await turn.run_once(_edit_on_card, pressed)


def _edit_on_card(uow: UnitOfWork, turn: Turn, pressed: PollEdit) -> None:
    """The creator's "Edit poll", in any chat: before the first vote anything may change; after it,
    options may only be added at the end."""
    uow.polls.lock(pressed.poll, exclusive=True)  # a vote being cast is in before the votes are counted
    poll = _creators_poll(uow, turn, pressed.poll, "edit")
    if poll is None or not _open_to(uow, turn, poll, "edit"):
        return
    labels = tuple(o.label for o in poll.options)
    voted = bool(uow.polls.results(poll.id, poll.multiple_choice).voters)
    try:
        draft = rules.edited(poll.question, labels, voted, pressed.question, pressed.options, poll.max_choices)
    except rules.PollInputError as error:
        turn.refuse(uow, _("I kept the poll as it was. %(problem)s", problem=error))
        return
    if (draft.question, draft.options) == (poll.question, labels):
        return
    if voted:
        uow.polls.add_options(poll.id, list(draft.options[len(labels):]))
    else:
        uow.polls.replace_draft(poll.id, draft.question, list(draft.options))
    _refresh_poll_cards(uow, poll.id)
    _offer_again(uow, poll.id)


@router.action("poll.remind", PollRef)
async def remind(turn: Turn, ref: PollRef) -> None:
    await turn.run_once(_remind, ref.poll)


def _remind(uow: UnitOfWork, turn: Turn, poll_id: int) -> None:
    """The creator's "Remind people who haven't voted": one 1:1 message to each member who hasn't,
    at most once per person and poll, through the outbound pipeline and its budgets."""
    poll = _creators_poll(uow, turn, poll_id, "remind")
    if poll is None:
        return
    people = _to_remind(uow, poll) if poll.is_open else []
    if not people:
        turn.refuse(uow, _("Nobody is left to remind: everyone has voted or was reminded already.")
                    if poll.is_open else _("This poll is closed, so nobody was reminded."))
        return
    home = uow.cards.in_conversation("poll", poll.id, poll.conversation_id)
    conversation = uow.conversations.get(poll.conversation_id)
    for person in people:
        if not uow.polls.remind(poll, person.id):
            continue  # another press reminded them meanwhile
        chat = uow.people.personal_chat(person.id)
        known = uow.conversations.get(chat) if chat else None
        with i18n.using(known.locale if known and known.locale else home.locale if home else None):
            text = _("%(name)s asks you to vote: “%(question)s” in %(place)s.",
                     name=name_or_someone(poll.creator_name), question=poll.question, place=place(conversation))
        message_privately(uow, poll.conversation_id, person.id, text_message(text), home.id if home else None)
    _refresh_poll_cards(uow, poll.id)


@router.action("poll.export", PollRef)
async def export(turn: Turn, ref: PollRef) -> None:
    await turn.run_once(_export, ref.poll)


def _export(uow: UnitOfWork, turn: Turn, poll_id: int) -> None:
    """The creator gets a link to the results, in their 1:1 chat (in a named poll it names who voted
    for what)."""
    poll = _creators_poll(uow, turn, poll_id, "export")
    if poll is None:
        return
    card = render_card("export", question=poll.question, url=turn.links.link(poll.id), anonymous=poll.anonymous)
    home = uow.cards.in_conversation("poll", poll.id, poll.conversation_id)
    turn.tell_privately(uow, card_message(card), about=home.id if home else None)


@router.action("poll.delete", PollRef)
async def delete(turn: Turn, ref: PollRef) -> None:
    await turn.run_once(_delete, ref.poll)


def _delete(uow: UnitOfWork, turn: Turn, poll_id: int) -> None:
    """The creator confirmed on the card: remove its messages from Teams and the poll from the store."""
    poll = _creators_poll(uow, turn, poll_id, "delete")
    if poll is None:
        return
    cards = uow.cards.for_subject("poll", poll.id)
    remove_messages(uow, cards)
    for card in cards:
        uow.cards.delete(card.id)
    uow.polls.delete(poll.id)


TOMBSTONES = {"poll": "poll", "approval": "request"}  # card kind -> what the "was deleted" card calls it


def remove_messages(uow: UnitOfWork, cards: list[Card]) -> None:
    """Delete these cards' messages in Teams, and the texts sent with them (their quick replies)."""
    for card in cards:
        if card.activity_id:
            # If Teams won't delete it, the card is replaced by what the tombstone says.
            uow.outbox.enqueue(card.conversation_id, "delete_message", body={
                "activity_id": card.activity_id, "tombstone": TOMBSTONES.get(card.kind), "locale": card.locale})
            uow.cards.set_activity_id(card.id, None)
    for sent in uow.messages.sent_with_cards([c.id for c in cards]):
        uow.outbox.enqueue(sent.conversation_id, "delete_message", body={"activity_id": sent.activity_id})


# The user edits or deletes the `poll ...` message (personal chats only, seed 000) ---------

@router.event("editMessage")
async def command_edited(turn: Turn, edited: MessageEvent) -> None:
    await turn.store.run(_edit, turn, edited)


def _own_command_poll(uow: UnitOfWork, turn: Turn, message_id: str) -> Poll | None:
    """The poll this user's `poll ...` message created; another person's edit or delete event never acts."""
    poll = uow.polls.by_command_message(turn.conversation.id, message_id)
    return poll if poll is not None and rules.may_manage(poll.creator_id, turn.user.id) else None


def _edit(uow: UnitOfWork, turn: Turn, edited: MessageEvent) -> None:
    poll = _own_command_poll(uow, turn, edited.message_id)
    if poll is None or poll.withdrawn:
        return  # not a message that created a poll
    uow.polls.lock(poll.id, exclusive=True)  # as on the card: a vote being cast is in before the votes are counted
    word, _space, args = edited.text.partition(" ")
    if word.casefold() != "poll":
        turn.reply(uow, _("Your edited message isn't a poll any more, so I kept the poll as it was."))
        return
    if not poll.is_open:
        turn.reply(uow, _("That poll is closed, so I kept it as it was."))
        return
    if uow.polls.results(poll.id).voters:
        turn.reply(uow, _("People have already voted, so I kept the poll as it was. To change it, close it and "
                          "post a new one."))
        return
    try:
        draft = rules.edited_command(args, poll.max_choices)
    except rules.PollInputError as error:
        turn.reply(uow, _("I couldn't apply your edit, so I kept the poll as it was. %(problem)s", problem=error))
        return
    if (draft.question, draft.options) == (poll.question, tuple(o.label for o in poll.options)):
        return  # the same edit delivered twice, or an edit that changed nothing we show
    uow.polls.replace_draft(poll.id, draft.question, list(draft.options))
    _refresh_poll_cards(uow, poll.id)
    _offer_again(uow, poll.id)


@router.event("softDeleteMessage")
async def command_deleted(turn: Turn, deleted: MessageEvent) -> None:
    await turn.store.run(_withdraw, turn, deleted)


def _withdraw(uow: UnitOfWork, turn: Turn, deleted: MessageEvent) -> None:
    poll = _own_command_poll(uow, turn, deleted.message_id)
    if poll is None or poll.withdrawn:
        return
    uow.polls.set_withdrawn(poll.id, True)
    remove_messages(uow, uow.cards.for_subject("poll", poll.id))


@router.event("undeleteMessage")
async def command_undeleted(turn: Turn, restored: MessageEvent) -> None:
    await turn.store.run(_restore, turn, restored)


def _restore(uow: UnitOfWork, turn: Turn, restored: MessageEvent) -> None:
    poll = _own_command_poll(uow, turn, restored.message_id)
    if poll is None or not poll.withdrawn:
        return
    uow.polls.set_withdrawn(poll.id, False)
    for card in uow.cards.for_subject("poll", poll.id):
        uow.outbox.enqueue(card.conversation_id, "send_card", card_id=card.id)
    _offer_again(uow, poll.id)


def _offer_again(uow: UnitOfWork, poll_id: int) -> None:
    """New quick replies under a 1:1 poll whose options changed or that came back."""
    poll = uow.polls.get(poll_id)
    conversation = uow.conversations.get(poll.conversation_id)
    if poll.is_open and conversation.conversation_type == "personal":
        for card in uow.cards.for_subject("poll", poll_id):
            _offer_options(uow, poll, card.id)


def _refresh_poll_cards(uow: UnitOfWork, poll_id: int) -> None:
    """Queue an update of every card showing this poll; the pipeline renders it when it sends."""
    for card in uow.cards.for_subject("poll", poll_id):
        uow.outbox.enqueue(card.conversation_id, "update_card", card_id=card.id)


def render_poll_card(uow: UnitOfWork, card: Card, viewer: Viewer | None = None) -> dict[str, Any] | None:
    """The shared card, or `viewer`'s own view of it."""
    return render_poll_views(uow, card, [viewer])[0]


def render_poll_views(uow: UnitOfWork, card: Card, viewers: list[Viewer | None]) -> list[dict[str, Any] | None]:
    """Several people's views of the card (None: the shared card). What they share is read once,
    and people who see the same thing (the same choices, no notice) get the same card."""
    poll = uow.polls.get(card.subject_id)
    if poll is None or poll.withdrawn:
        return [None] * len(viewers)
    audience = _refreshed_for(uow, poll)
    results = uow.polls.results(poll.id, poll.multiple_choice)
    voters = {} if poll.anonymous else uow.polls.first_voters(poll.id, [o.position for o in poll.options],
                                                               WHO_VOTED_PER_OPTION)
    roster = _participation(uow, poll)
    rendered: dict[PollViewer | None, dict[str, Any]] = {}
    views = []
    for viewer in viewers:
        is_creator = viewer is not None and rules.may_manage(poll.creator_id, viewer.user_id)
        personal = None if viewer is None else PollViewer(
            choices=uow.polls.user_choices(poll, viewer.user_id),
            is_creator=is_creator,
            notice=viewer.notice,
            to_remind=len(_to_remind(uow, poll)) if is_creator and poll.is_open else 0,
        )
        if personal not in rendered:
            view = poll_view(poll, results, audience, personal, voters, roster)
            rendered[personal] = render_card("poll", poll=view)
        views.append(rendered[personal])
    return views


def _participation(uow: UnitOfWork, poll: Poll) -> Participation:
    """How many of the members on the roster voted (those who left since are not counted)."""
    members = uow.people.member_count(poll.conversation_id)
    return Participation(uow.polls.members_voted(poll), members) if members else Participation()


def _to_remind(uow: UnitOfWork, poll: Poll) -> list[Person]:
    """The members who haven't voted and weren't reminded yet (the creator aside)."""
    members = [m for m in uow.people.members(poll.conversation_id) if m.id != poll.creator_id]
    return uow.polls.not_reminded(poll, uow.polls.not_voted(poll, members))


def _refreshed_for(uow: UnitOfWork, poll: Poll) -> tuple[str, ...]:
    """Whom Teams refreshes the card for when they see it: the creator and the latest voters. Only
    the creator on an anonymous poll: the card's list of ids would say who voted."""
    if poll.anonymous:
        return (poll.creator_id,)
    voters = [v for v in uow.polls.recent_voters(poll.id, MAX_REFRESH_USERS) if v != poll.creator_id]
    return (poll.creator_id, *voters[:MAX_REFRESH_USERS - 1])


def render_poll_form(uow: UnitOfWork, card: Card, viewer: Viewer | None = None) -> dict[str, Any] | None:
    return render_card("poll_form", form=poll_form_view(card.id, card.state, viewer.notice if viewer else ""))


CARD_RENDERERS = {"poll": render_poll_card, "poll_form": render_poll_form}
FOLLOWUPS = {ROSTER_READ: lambda uow, conversation_id, _then: members_changed(uow, [conversation_id])}
VIEWS_RENDERERS = {"poll": render_poll_views}


def members_changed(uow: UnitOfWork, conversation_ids: list[str]) -> None:
    """People joined or left: the open polls there show the new "N of M members voted"."""
    if not conversation_ids:
        return
    for poll_id in uow.polls.open_in(conversation_ids):
        _refresh_poll_cards(uow, poll_id)


def close_for_deleted_channel(uow: UnitOfWork, conversation_ids: list[str]) -> None:
    for poll_id in uow.polls.open_in(conversation_ids):
        uow.polls.close(poll_id, reason="channel_deleted")
        _refresh_poll_cards(uow, poll_id)


def reopen_for_restored_channel(uow: UnitOfWork, conversation_ids: list[str]) -> None:
    """Reopen only the polls the channel's deletion closed, not those their creator closed. One
    whose closing time passed meanwhile keeps it: the timer closes it and says its result."""
    for poll_id in uow.polls.closed_for("channel_deleted", conversation_ids):
        uow.polls.reopen(poll_id)
        _refresh_poll_cards(uow, poll_id)
