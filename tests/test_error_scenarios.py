"""A turn that fails: logged with its traceback and activity id, never a stack trace
in a chat; only the personal chat hears "something went wrong, nothing was changed"."""
from __future__ import annotations

import logging

import pytest

from poll_bot.app import SORRY
from poll_bot.features import polls
from tests.support import cards, teams
from tests.support.fake_connector import shown_text
from tests.support.teams import ALEX, MEGAN


@pytest.fixture
def broken_vote(monkeypatch):
    """A fault in the vote's transaction: it raises after writing a vote, so the rollback is tested too."""
    def vote_then_fail(uow, turn, pressed):
        uow.polls.add_vote(uow.polls.get(pressed.poll), pressed.option, turn.user.id, turn.user.name)
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(polls, "_vote", vote_then_fail)


@pytest.mark.parametrize("chat, hears_sorry", [(teams.personal_chat(), True), (teams.group_chat(), False),
                                                (teams.channel_thread(), False)])
async def test_a_failing_turn_is_logged_and_changes_nothing(bot, broken_vote, caplog, chat, hears_sorry):
    await bot.say(chat, MEGAN, "poll Lunch? | Pizza | Sushi")
    card_id = bot.rows("SELECT activity_id FROM cards")[0][0]
    before = bot.connector.messages(chat.id)
    press = teams.submit(chat, ALEX, cards.vote_buttons(bot.connector.card(chat.id, card_id))["Pizza"], card_id,
                         bot.connector.url)

    with caplog.at_level(logging.ERROR, logger="poll_bot"):
        assert await bot.post(press) == 200
        await bot.settle()

    (record,) = [r for r in caplog.records if r.exc_info]
    assert press["id"] in record.getMessage() and "disk on fire" in caplog.text and "Traceback" in caplog.text
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(0,)], "the failed transaction was rolled back"
    new = bot.connector.messages(chat.id)[len(before):]
    assert [shown_text(m) for m in new] == ([SORRY] if hears_sorry else [])
    assert all("Traceback" not in str(m) and "disk on fire" not in str(m) for m in bot.connector.messages(chat.id))
