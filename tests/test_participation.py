"""Participation (issue 11): "N of M members voted" from the roster the bot reads, kept current by
membership events, and the creator's "Remind people who haven't voted": one 1:1 message to each,
at most once per person and poll. Through the real app, on both press paths and both databases."""
from __future__ import annotations

import pytest

from tests.support import cards, teams
from tests.support.teams import ALEX, LEE, MEGAN, PAT

REMIND = "🔔 Remind the 2 people who haven't voted"


@pytest.fixture(params=["submit", "invoke"])
def press_path(request):
    return request.param


async def posted_poll(bot, chat, text="poll Lunch? | Pizza | Sushi | Tacos"):
    await bot.say(chat, MEGAN, text)
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    return card_id, cards.vote_buttons(bot.connector.card(chat.id, card_id))


def summary(card: dict) -> list[str]:
    return [text for text in cards.texts(card) if "voted" in text]


async def test_the_card_counts_voters_of_the_roster_and_follows_people_joining_and_leaving(bot, group):
    card_id, vote = await posted_poll(bot, group)
    assert summary(bot.connector.card(group.id, card_id)) == ["0 of 4 members voted"]

    await bot.press(group, ALEX, card_id, vote["Pizza"])
    assert summary(bot.connector.card(group.id, card_id)) == ["1 of 4 members voted"]

    newcomer = teams.Person("29:1new-person-teams-id", "Nestor Wilke", "a1b2c3d4-0000-4000-8000-000000000009")
    await bot.post(teams.members_changed(group, MEGAN, bot.connector.url, added=(newcomer,)))
    await bot.settle()
    assert summary(bot.connector.card(group.id, card_id)) == ["1 of 5 members voted"]

    await bot.post(teams.members_changed(group, MEGAN, bot.connector.url, removed=(newcomer, LEE)))
    await bot.settle()
    assert summary(bot.connector.card(group.id, card_id)) == ["1 of 3 members voted"]


@pytest.mark.parametrize("flags", ["", "--anonymous "])
async def test_someone_who_voted_and_left_counts_in_the_tallies_not_among_the_members(bot, group, flags):
    card_id, vote = await posted_poll(bot, group, f"poll {flags}Lunch? | Pizza | Sushi")
    await bot.press(group, ALEX, card_id, vote["Pizza"])
    await bot.press(group, LEE, card_id, vote["Sushi"])
    assert summary(bot.connector.card(group.id, card_id))[0] == "2 of 4 members voted"

    await bot.post(teams.members_changed(group, MEGAN, bot.connector.url, removed=(ALEX,)))
    await bot.settle()

    card = bot.connector.card(group.id, card_id)
    assert summary(card)[0] == "1 of 3 members voted"
    assert "1 vote · 50%" in cards.texts(card), "Alex's vote still counts"


async def test_a_channel_keeps_one_roster_for_all_its_polls_and_reads_it_once(bot):
    bot.connector.rosters[teams.TEAM["id"]] = [p.account() for p in (MEGAN, ALEX, PAT, LEE)]
    first, second = (teams.channel_thread(root, channel=teams.PLANNING) for root in ("1700000000001", "1700000000002"))
    first_card, vote = await posted_poll(bot, first)
    await bot.press(first, ALEX, first_card, vote["Pizza"])
    await bot.say(second, MEGAN, "poll Dinner? | Ramen | Curry")
    second_card = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll' ORDER BY id")[-1][0]

    assert summary(bot.connector.card(first.id, first_card)) == ["1 of 4 members voted"]
    assert summary(bot.connector.card(second.id, second_card)) == ["0 of 4 members voted"]
    reads = [c for c in bot.connector.calls if c.method == "GET" and c.conversation_id == teams.TEAM["id"]]
    assert len(reads) == 1, "the second poll's thread uses the channel's roster"
    assert bot.rows("SELECT DISTINCT conversation_id FROM conversation_members") == [(teams.PLANNING["id"],)]


async def test_without_a_roster_the_card_counts_people(bot):
    chat = teams.group_chat()  # the connector knows no roster for it
    card_id, vote = await posted_poll(bot, chat)
    await bot.press(chat, ALEX, card_id, vote["Pizza"])
    assert summary(bot.connector.card(chat.id, card_id)) == ["1 person voted"]


async def test_the_creator_reminds_each_member_who_has_not_voted_once(bot, group):
    card_id, vote = await posted_poll(bot, group)
    await bot.press(group, ALEX, card_id, vote["Pizza"])
    creators_view = await bot.view(group, MEGAN, card_id)
    assert REMIND in cards.buttons(creators_view)
    assert not any("Remind" in title for title in cards.buttons(await bot.view(group, ALEX, card_id)))
    assert not any("Remind" in title for title in cards.buttons(bot.connector.card(group.id, card_id)))
    messages_in_group = len(bot.connector.messages(group.id))

    await bot.press(group, MEGAN, card_id, cards.buttons(creators_view)[REMIND])

    asked = "Megan Bowen asks you to vote: “Lunch?” in "
    assert [t for t in bot.told(PAT) if t.startswith(asked)] != []
    assert [t for t in bot.told(LEE) if t.startswith(asked)] != []
    assert not any(t.startswith(asked) for t in bot.told(ALEX)), "Alex voted"
    assert not any(t.startswith(asked) for t in bot.told(MEGAN)), "not the creator"
    assert len(bot.connector.messages(group.id)) == messages_in_group, "nothing posted in the group"
    assert not any("Remind" in title for title in cards.buttons(await bot.view(group, MEGAN, card_id)))

    await bot.press(group, MEGAN, card_id, cards.buttons(creators_view)[REMIND])  # pressed again on the old view
    assert bot.refusal(MEGAN) == "Nobody is left to remind: everyone has voted or was reminded already."
    assert sum(t.startswith(asked) for t in bot.told(PAT)) == 1, "at most once per person and poll"


async def test_only_the_creator_may_remind(bot, group):
    card_id, _ = await posted_poll(bot, group)
    remind = cards.buttons(await bot.view(group, MEGAN, card_id))["🔔 Remind the 3 people who haven't voted"]

    await bot.press(group, ALEX, card_id, remind)

    assert bot.refusal(ALEX) == "Only Megan Bowen, who created this poll, can remind people to vote."
    assert bot.rows("SELECT COUNT(*) FROM poll_reminders") == [(0,)]
    assert bot.told(PAT) == []


async def test_an_anonymous_polls_reminders_cannot_be_joined_to_its_votes(bot, group):
    """The reminder message to each person is stored in clear (outbox, sent texts): the record of
    whom the bot reminded must not match the record of their vote."""
    card_id, vote = await posted_poll(bot, group, "poll --anonymous Lunch? | Pizza | Sushi")
    await bot.press(group, ALEX, card_id, vote["Pizza"])
    creators_view = await bot.view(group, MEGAN, card_id)

    await bot.press(group, MEGAN, card_id, cards.buttons(creators_view)[REMIND])
    await bot.press(group, MEGAN, card_id, cards.buttons(creators_view)[REMIND])  # pressed again on the old view
    await bot.press(group, PAT, card_id, vote["Sushi"])  # reminded, she votes

    asked = "Megan Bowen asks you to vote: “Lunch?” in "
    assert sum(t.startswith(asked) for t in bot.told(PAT)) == 1, "at most once per person and poll"
    assert sum(t.startswith(asked) for t in bot.told(LEE)) == 1
    assert bot.refusal(MEGAN) == "Nobody is left to remind: everyone has voted or was reminded already."
    reminded = [person for (person,) in bot.rows("SELECT person FROM poll_reminders")]
    in_votes = {value for row in bot.rows("SELECT * FROM votes") for value in row}
    members = {text for person in (MEGAN, ALEX, PAT, LEE) for text in (person.id, person.name)}
    assert len(reminded) == 2 and len(in_votes) > 2
    assert not set(reminded) & in_votes, "a reminder record names the same voter as a vote"
    assert not set(reminded) & members and not in_votes & members
