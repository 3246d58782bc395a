"""POLL_BOT_RETENTION_DAYS: the timer deletes closed polls and finished requests some days
after they closed, with everything stored for them, and nothing else. The clock is the
timer's `now`, so nothing sleeps."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from poll_bot.app import TIMERS
from poll_bot.features import retention
from tests.support import cards, teams
from tests.support.teams import ALEX, MEGAN, PAT

DAYS = 30
SHORTCUT = "approval New laptops | Three 14-inch laptops <at>Alex Wilber</at> <at>Patti Fernandez</at>"


@pytest.fixture
def group(connector):
    chat = teams.group_chat()
    connector.rosters[chat.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    return chat


async def post_poll(bot, chat, question: str) -> tuple[int, str]:
    await bot.say(chat, MEGAN, f"{question} | Yes | No")
    return bot.rows("SELECT p.id, c.activity_id FROM polls p JOIN cards c ON c.kind = 'poll' AND c.subject_id = p.id "
                    "WHERE c.conversation_id = ? ORDER BY p.id DESC LIMIT 1", chat.id)[0]


async def vote_and_close(bot, chat, question: str) -> tuple[int, str]:
    poll_id, card_id = await post_poll(bot, chat, question)
    card = bot.connector.card(chat.id, card_id)
    await bot.press(chat, ALEX, card_id, cards.vote_buttons(card)["Yes"])
    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Close poll"))
    return poll_id, card_id


async def request(bot, chat, title: str) -> tuple[int, str]:
    assert await bot.post(teams.message(chat, MEGAN, SHORTCUT.replace("New laptops", title), bot.connector.url,
                                        (ALEX, PAT))) == 200
    await bot.settle()
    return bot.rows("SELECT a.id, c.activity_id FROM approvals a JOIN cards c ON c.kind = 'approval' "
                    "AND c.subject_id = a.id AND c.conversation_id = a.conversation_id ORDER BY a.id DESC LIMIT 1")[0]


def closed_at(bot, table: str, row_id: int) -> datetime:
    (at,) = bot.rows(f"SELECT closed_at FROM {table} WHERE id = ?", row_id)[0]
    return datetime.fromisoformat(at)


async def test_old_closed_polls_and_finished_requests_go_with_everything_stored_for_them(make_bot, group):
    bot = await make_bot(RETENTION_DAYS=DAYS)
    personal = teams.personal_chat(MEGAN)
    open_poll, _ = await post_poll(bot, group, "poll Still open?")
    pending, _ = await request(bot, group, "Still pending")
    finished, finished_card = await request(bot, group, "Cancelled")
    await bot.press(group, MEGAN, finished_card, await bot.button(group, MEGAN, finished_card, "Yes, cancel it"))
    # In the 1:1 chat quick replies were sent with it, and its result when it closed.
    old_poll, old_card = await vote_and_close(bot, personal, "poll Old one?")
    reopen = await bot.button(personal, MEGAN, old_card, "Reopen poll")
    recent_poll, _ = await vote_and_close(bot, group, "poll Recent one?")
    copies = [c for (c,) in bot.rows("SELECT card_id FROM approval_copies WHERE approval_id = ?", finished)]
    assert copies and bot.rows("SELECT COUNT(*) FROM sent_messages WHERE card_id IN (SELECT id FROM cards "
                               "WHERE kind = 'poll' AND subject_id = ?)", old_poll) == [(2,)]
    assert closed_at(bot, "approvals", finished) < closed_at(bot, "polls", old_poll) < closed_at(bot, "polls", recent_poll)

    # Exactly DAYS after the recent poll closed: everything closed before it is older than that.
    await bot.server.app[TIMERS].tick(closed_at(bot, "polls", recent_poll) + timedelta(days=DAYS))

    assert bot.rows("SELECT id FROM polls ORDER BY id") == [(open_poll,), (recent_poll,)]
    assert bot.rows("SELECT id FROM approvals") == [(pending,)]
    assert bot.rows("SELECT DISTINCT poll_id FROM votes") == [(recent_poll,)]
    assert bot.rows("SELECT DISTINCT poll_id FROM poll_options ORDER BY poll_id") == [(open_poll,), (recent_poll,)]
    assert bot.rows("SELECT DISTINCT approval_id FROM approval_events") == [(pending,)]
    assert bot.rows("SELECT DISTINCT approval_id FROM approval_approvers") == [(pending,)]
    assert bot.rows("SELECT DISTINCT approval_id FROM approval_copies") == [(pending,)]
    assert bot.rows("SELECT kind, subject_id FROM cards WHERE subject_id IN (?, ?) AND kind IN ('poll', 'approval')",
                    old_poll, finished) == [], "cards and 1:1 copies of what was deleted"
    assert bot.rows(f"SELECT COUNT(*) FROM outbox WHERE card_id IN ({','.join('?' * len(copies))})", *copies) == [(0,)]
    assert bot.rows("SELECT COUNT(*) FROM sent_messages WHERE card_id IS NOT NULL AND card_id NOT IN "
                    "(SELECT id FROM cards)") == [(0,)]
    assert bot.rows("SELECT poll_id FROM offered_polls") == []

    # The audit of what is kept still refuses to be deleted on its own.
    with pytest.raises(bot.db.integrity_error, match="append-only"):
        bot.db.execute("DELETE FROM approval_events WHERE approval_id = ?", pending)

    # The deleted poll's card is still in Teams; its creator pressing Reopen gets a notice, nothing breaks.
    await bot.press(personal, MEGAN, old_card, reopen)
    assert bot.connector.texts(personal.id)[-1] == "This poll no longer exists, so nothing was changed."


async def test_unset_or_zero_keeps_everything_forever(make_bot, group):
    bot = await make_bot()
    poll_id, _ = await vote_and_close(bot, group, "poll Kept?")
    await bot.server.app[TIMERS].tick(closed_at(bot, "polls", poll_id) + timedelta(days=10_000))
    assert bot.rows("SELECT id FROM polls") == [(poll_id,)]
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)]


async def test_a_backlog_is_deleted_in_several_short_transactions(make_bot, group, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    bot = await make_bot(RETENTION_DAYS=DAYS)
    polls = [(await vote_and_close(bot, group, f"poll Number {n}?"))[0] for n in range(5)]
    await bot.server.app[TIMERS].tick(closed_at(bot, "polls", polls[-1]) + timedelta(days=DAYS, seconds=1))
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)]
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(0,)]
