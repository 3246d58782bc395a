"""Edits and deletes of the user's `poll ...` message (seed 000), deleting a poll
from its card, reactions (seed 004) and read receipts (seed 001)."""
from __future__ import annotations

import pytest

from tests.support import cards, teams
from tests.support.fake_connector import error_response
from tests.support.teams import ALEX, MEGAN, PAT

LUNCH = "poll Lunch on Friday? | Pizza | Sushi | Tacos"


async def send(bot, activity):
    assert await bot.post(activity) == 200
    await bot.settle()


async def post_in_1_1(bot, text=LUNCH):
    """Megan posts a poll in her 1:1 chat; returns (chat, her message's id, the card's id)."""
    chat = teams.personal_chat()
    command = teams.message(chat, MEGAN, text, bot.connector.url)
    await send(bot, command)
    card_id = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll' ORDER BY id")[-1][0]
    return chat, command["id"], card_id


def card_of(bot, chat, card_id):
    return bot.connector.card(chat.id, card_id)


async def test_editing_the_command_before_any_vote_edits_the_card_in_place(bot):
    chat, message_id, card_id = await post_in_1_1(bot)
    await send(bot, teams.edited(chat, MEGAN, message_id, "poll Lunch on Thursday? | Pizza | Ramen", bot.connector.url))

    card = card_of(bot, chat, card_id)
    assert "Lunch on Thursday?" in cards.texts(card)
    assert list(cards.vote_buttons(card)) == ["Pizza", "Ramen"]
    assert bot.rows("SELECT label FROM poll_options ORDER BY position") == [("Pizza",), ("Ramen",)]
    assert len(bot.connector.cards(chat.id)) == 1, "the same card, not a new one"
    offer = bot.connector.messages(chat.id)[-1]
    assert [a["title"] for a in offer["suggestedActions"]["actions"]] == ["Pizza", "Ramen"]

    await bot.say(chat, MEGAN, "Ramen")  # the new quick reply votes for the new option
    assert bot.rows("SELECT o.label FROM votes v JOIN poll_options o USING (poll_id, position)") == [("Ramen",)]


async def test_an_edit_after_votes_is_refused_with_a_notice(bot):
    chat, message_id, card_id = await post_in_1_1(bot)
    await bot.press(chat, MEGAN, card_id, cards.vote_buttons(card_of(bot, chat, card_id))["Sushi"])
    await send(bot, teams.edited(chat, MEGAN, message_id, "poll Dinner? | Thai | Greek", bot.connector.url))

    assert bot.connector.texts(chat.id)[-1].startswith("People have already voted, so I kept the poll as it was.")
    assert "Lunch on Friday?" in cards.texts(card_of(bot, chat, card_id))
    assert bot.rows("SELECT question FROM polls") == [("Lunch on Friday?",)]


async def test_bad_edits_keep_the_poll_and_say_why(bot):
    chat, message_id, card_id = await post_in_1_1(bot)
    for text, notice in (("let's get lunch", "Your edited message isn't a poll any more"),
                         ("poll Lunch? | Pizza", "I couldn't apply your edit, so I kept the poll as it was. Give 2")):
        await send(bot, teams.edited(chat, MEGAN, message_id, text, bot.connector.url))
        assert bot.connector.texts(chat.id)[-1].startswith(notice)
    assert bot.rows("SELECT COUNT(*) FROM poll_options") == [(3,)]

    calls = len(bot.connector.calls)
    await send(bot, teams.edited(chat, MEGAN, "1234", "poll Other? | A | B", bot.connector.url))
    assert len(bot.connector.calls) == calls, "editing a message that made no poll changes nothing"


async def test_deleting_the_command_withdraws_the_poll_and_undeleting_posts_it_again(bot):
    chat, message_id, card_id = await post_in_1_1(bot)
    await bot.press(chat, MEGAN, card_id, cards.vote_buttons(card_of(bot, chat, card_id))["Tacos"])

    await send(bot, teams.soft_deleted(chat, MEGAN, message_id, bot.connector.url))
    deleted = {c.activity_id for c in bot.connector.calls_of("DELETE")}
    assert card_id in deleted and len(deleted) == 2, "the card and its quick replies"
    assert bot.connector.messages(chat.id) == []
    assert bot.rows("SELECT withdrawn FROM polls") == [(1,)]
    await bot.say(chat, MEGAN, "Pizza")
    assert bot.rows("SELECT position FROM votes") == [(2,)], "a withdrawn poll takes no votes"

    await send(bot, teams.undeleted(chat, MEGAN, message_id, LUNCH, bot.connector.url))
    (card,) = bot.connector.cards(chat.id)
    assert cards.option_counts(card)["Tacos"] == "1 vote · 100%"
    assert bot.rows("SELECT withdrawn FROM polls") == [(0,)]
    await bot.say(chat, MEGAN, "Pizza")
    assert bot.rows("SELECT position FROM votes") == [(0,)]


async def test_the_creator_deletes_a_poll_from_its_card_after_confirming(bot):
    chat = teams.channel_thread()
    await bot.say(chat, MEGAN, LUNCH)
    card_id = bot.connector.calls_of("POST")[0].activity_id
    card = card_of(bot, chat, card_id)
    await bot.press(chat, ALEX, card_id, cards.vote_buttons(card)["Pizza"])
    confirm = await bot.button(chat, MEGAN, card_id, "Yes, delete it")  # in the creator's "Delete poll" show-card

    await bot.press(chat, ALEX, card_id, confirm)
    assert bot.told(ALEX)[-1] == "Only Megan Bowen, who created this poll, can delete it."
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(1,)]

    await bot.press(chat, MEGAN, card_id, confirm)
    assert [c.activity_id for c in bot.connector.calls_of("DELETE")] == [card_id]
    assert bot.connector.cards(chat.id) == []
    assert bot.rows("SELECT COUNT(*) FROM polls") == bot.rows("SELECT COUNT(*) FROM votes") == [(0,)]
    assert bot.rows("SELECT COUNT(*) FROM cards") == [(0,)]


@pytest.mark.parametrize("refusal", [(501, "DeleteActivityAPINotImplemented"), (403, "Forbidden")])
async def test_a_card_teams_will_not_delete_becomes_a_deleted_card_without_buttons(bot, refusal):
    status, code = refusal
    bot.connector.fault = lambda call: error_response(status, code) if call.method == "DELETE" else None
    chat = teams.channel_thread()
    await bot.say(chat, MEGAN, LUNCH)
    card_id = bot.connector.calls_of("POST")[0].activity_id
    stale = card_of(bot, chat, card_id)

    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Yes, delete it"))
    deleted = card_of(bot, chat, card_id)
    assert cards.texts(deleted)[0] == "🗑️ This poll was deleted."
    assert cards.buttons(deleted) == {} and "actions" not in deleted
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)]

    await bot.press(chat, ALEX, card_id, cards.vote_buttons(stale)["Pizza"])
    assert bot.told(ALEX)[-1] == "This poll no longer exists, so nothing was changed."


async def test_a_reaction_is_recorded_against_the_poll_and_is_never_a_vote(bot):
    chat, _, card_id = await post_in_1_1(bot)
    offer_id = bot.connector.calls_of("POST")[1].activity_id
    url = bot.connector.url
    await send(bot, teams.reaction(chat, MEGAN, card_id, url, added=("like", "heart")))
    await send(bot, teams.reaction(chat, MEGAN, offer_id, url, added=("laugh",)))
    await send(bot, teams.reaction(chat, MEGAN, card_id, url, removed=("heart",)))

    poll_card = bot.rows("SELECT id FROM cards WHERE kind = 'poll'")[0][0]
    assert bot.rows("SELECT activity_id, reaction, card_id FROM reactions ORDER BY activity_id, reaction") == [
        (card_id, "like", poll_card), (offer_id, "laugh", poll_card)]
    assert bot.rows("SELECT text FROM sent_messages") == [("Tap an option to vote: Lunch on Friday?",)]
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(0,)]
    assert len(bot.connector.messages(chat.id)) == 2, "the bot says nothing about reactions"


async def test_a_read_receipt_marks_an_approvers_copy_read(make_bot, connector):
    bot = await make_bot()
    group = teams.group_chat()
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    text = "approval Budget | Q3 <at>Alex Wilber</at>"
    await send(bot, teams.message(group, MEGAN, text, connector.url, (ALEX,)))
    chat_id, copy_id = bot.rows("SELECT k.conversation_id, k.activity_id FROM cards k "
                                "JOIN approval_copies c ON c.card_id = k.id")[0]
    chat = teams.Chat({"conversationType": "personal", "id": chat_id, "tenantId": teams.TENANT},
                      {"tenant": {"id": teams.TENANT}}, mention_bot=False)

    await send(bot, teams.read_receipt(chat, ALEX, str(int(copy_id) - 1), connector.url))
    assert bot.rows("SELECT read FROM approval_copies") == [(0,)]
    await send(bot, teams.read_receipt(chat, ALEX, copy_id, connector.url))
    assert bot.rows("SELECT read FROM approval_copies") == [(1,)]
