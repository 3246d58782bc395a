"""Universal Actions: each person's own view of a card, the refresh list, and invokes answered
from the committed state (the full scenario suites also run every press as an invoke)."""
from __future__ import annotations

import asyncio

from tests.support import cards, teams
from tests.support.teams import ALEX, MEGAN, PAT

CARD = "application/vnd.microsoft.card.adaptive"


async def posted_poll(bot, chat, text="poll Lunch? | Pizza | Sushi | Tacos"):
    await bot.say(chat, MEGAN, text)
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    return card_id, cards.vote_buttons(bot.connector.card(chat.id, card_id))


async def test_two_voters_get_their_own_views_and_the_shared_card_marks_no_one(bot):
    chat = teams.group_chat()
    card_id, vote = await posted_poll(bot, chat)

    alex = await bot.execute(chat, ALEX, card_id, vote["Pizza"])
    pat = await bot.execute(chat, PAT, card_id, vote["Sushi"])

    assert alex["statusCode"] == pat["statusCode"] == 200 and alex["type"] == pat["type"] == CARD
    assert cards.my_votes(alex["value"]) == ["Pizza"] and cards.my_votes(pat["value"]) == ["Sushi"]
    assert cards.option_counts(pat["value"])["Pizza"] == "1 vote · 50%", "Pat's answer is after Alex's vote"
    shared = bot.connector.card(chat.id, card_id)
    assert cards.my_votes(shared) == [] and cards.option_counts(shared)["Sushi"] == "1 vote · 50%"
    assert cards.my_votes(await bot.view(chat, ALEX, card_id)) == ["Pizza"], "a refresh shows the same"
    assert "Close poll" not in cards.buttons(alex["value"]) and "Close poll" in cards.buttons(
        await bot.view(chat, MEGAN, card_id))


async def test_presses_committed_together_are_each_answered_with_their_own_vote(bot):
    """Presses that commit together are answered together: each still sees their own vote, in a
    tally that counts it, and people who chose alike get the same card."""
    chat = teams.group_chat()
    card_id, vote = await posted_poll(bot, chat)
    voters = [teams.Person(f"29:voter-{i}", f"Voter {i}") for i in range(40)]
    chosen = {v.id: ("Pizza", "Sushi", "Tacos")[i % 3] for i, v in enumerate(voters)}

    async def press(voter):
        activity = teams.invoke(chat, voter, vote[chosen[voter.id]], card_id, bot.connector.url)
        async with bot.session.post(bot.url, json=activity) as response:
            return voter, response.status, await response.json()

    answers = await asyncio.gather(*(press(v) for v in voters))

    for voter, status, answer in answers:
        assert status == 200 and answer["type"] == CARD
        assert cards.my_votes(answer["value"]) == [chosen[voter.id]]
        counts = cards.option_counts(answer["value"])
        assert counts[chosen[voter.id]] != "0 votes", "the tally counts the presser's own vote"
    assert len(bot.rows("SELECT user_id FROM votes")) == 40


async def test_a_redelivered_invoke_counts_once_and_is_answered_again(bot):
    chat = teams.group_chat()
    card_id, vote = await posted_poll(bot, chat)
    press = teams.invoke(chat, ALEX, vote["Pizza"], card_id, bot.connector.url)

    answers = []
    for _ in range(2):  # Teams delivers the same activity (same id) twice
        async with bot.session.post(bot.url, json=press) as response:
            answers.append((response.status, await response.json()))
    await bot.settle()

    assert bot.rows("SELECT user_id, position FROM votes") == [(ALEX.id, 0)], "not retracted by the second"
    assert [status for status, _ in answers] == [200, 200]
    assert all(cards.my_votes(body["value"]) == ["Pizza"] for _, body in answers)


async def test_a_refusal_is_answered_to_the_presser_and_never_posted(bot):
    chat = teams.channel_thread()
    card_id, _ = await posted_poll(bot, chat)
    close = await bot.button(chat, MEGAN, card_id, "Close poll")
    calls = len(bot.connector.calls)

    answer = await bot.execute(chat, ALEX, card_id, close)

    assert answer["type"] == CARD
    assert cards.notice(answer["value"]) == "Only Megan Bowen, who created this poll, can close it."
    assert bot.rows("SELECT status FROM polls") == [("open",)]
    assert bot.connector.calls[calls:] == [], "nothing posted: not in the channel, not in a 1:1 chat"


async def test_refresh_user_ids_stay_within_60_with_the_creator_and_the_latest_voters(bot):
    chat = teams.channel_thread()
    card_id, vote = await posted_poll(bot, chat)
    voters = [teams.Person(f"29:voter-{i:03d}", f"Voter {i}") for i in range(200)]
    for batch in (voters[:141], voters[141:]):  # the last 59 vote after everyone else
        statuses = await asyncio.gather(*(bot.post(teams.submit(chat, v, vote["Sushi"], card_id, bot.connector.url))
                                          for v in batch))
        assert set(statuses) == {200}
        await asyncio.sleep(0.01)
    await bot.settle()
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(200,)]
    refresh = bot.connector.card(chat.id, card_id)["refresh"]

    assert refresh["action"]["verb"] == "poll.refresh" and refresh["action"]["type"] == "Action.Execute"
    assert refresh["action"]["data"]["verb"] == "poll.refresh"
    assert len(refresh["userIds"]) == 60
    assert refresh["userIds"][0] == MEGAN.id
    assert set(refresh["userIds"][1:]) == {v.id for v in voters[-59:]}, "the 59 who voted last"


async def test_an_approvals_refresh_list_is_the_requester_and_the_approvers_on_turn(make_bot, connector):
    bot = await make_bot()
    group = teams.group_chat()
    lee = teams.Person("29:1lee-gu-teams-id", "Lee Gu")
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT, lee)]
    await bot.say(group, MEGAN, "approval Budget | <at>Alex Wilber</at> <at>Patti Fernandez</at>", (ALEX, PAT))
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval' AND conversation_id = ?", group.id)
    refresh = bot.connector.card(group.id, card_id)["refresh"]
    assert refresh["action"]["verb"] == "approval.refresh"
    assert refresh["userIds"] == [MEGAN.id, *sorted((ALEX.id, PAT.id))]

    before = bot.rows("SELECT * FROM approval_approvers")
    assert "Reassign" in [a["title"] for a in (await bot.view(group, ALEX, card_id))["actions"]]
    assert bot.rows("SELECT * FROM approval_approvers") == before, "a refresh changes nothing"
