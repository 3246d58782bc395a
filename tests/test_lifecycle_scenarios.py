"""Installation, removal, team and channel events, and people joining or leaving
(seed 004), end to end through the real app."""
from __future__ import annotations

import logging

import pytest

from tests.support import cards, teams
from tests.support.fake_connector import shown_text
from tests.support.teams import ALEX, GENERAL, LEE, MEGAN, PAT, PLANNING, TEAM

LAPTOPS = "approval New laptops | Three 14-inch <at>Alex Wilber</at> <at>Patti Fernandez</at>"


async def send(bot, activity):
    status = await bot.post(activity)
    assert status == 200, status
    await bot.settle()


def every_row(bot) -> dict[str, list[tuple]]:
    """Every row of every table but the migrations' own."""
    return {t: bot.rows(f'SELECT * FROM "{t}"') for t in bot.db.tables()}


def rows_mentioning(bot, *needles: str) -> dict[str, list[tuple]]:
    found = {}
    for table, rows in every_row(bot).items():
        hits = [r for r in rows if any(n in str(value) for value in r for n in needles)]
        if hits:
            found[table] = hits
    return found


def personal_chat_id(bot, person) -> str:
    """The 1:1 chat the bot has with this person (opened by the bot, or where they wrote)."""
    return bot.rows("SELECT conversation_id FROM personal_chats WHERE user_id = ?", person.id)[0][0]


def card_id(bot, chat, kind="poll"):
    return bot.rows("SELECT activity_id FROM cards WHERE conversation_id = ? AND kind = ? ORDER BY id",
                    chat.id, kind)[-1][0]


async def vote(bot, chat, user, option, kind_card=None):
    activity_id = kind_card or card_id(bot, chat)
    await bot.press(chat, user, activity_id, cards.vote_buttons(bot.connector.card(chat.id, activity_id))[option])


# Installed ------------------------------------------------------------------------------

async def test_installing_welcomes_once_even_when_membersadded_follows(bot):
    chat = teams.personal_chat()
    await send(bot, teams.installation(chat, MEGAN, "add", bot.connector.url))
    await send(bot, teams.members_changed(chat, MEGAN, bot.connector.url, added=("bot",)))
    await send(bot, teams.installation(chat, MEGAN, "add-upgrade", bot.connector.url))

    (welcome,) = bot.connector.messages(chat.id)
    assert shown_text(welcome).startswith("Hi, I'm Poll Bot: live polls and approvals")
    assert welcome["textFormat"] == "xml" and "<br>" in welcome["text"]
    assert "\n• poll Lunch on Friday? | Pizza" in shown_text(welcome)
    assert [a["title"] for a in welcome["suggestedActions"]["actions"]][:3] == ["New poll", "My open polls",
                                                                                "Pending approvals"]

    await send(bot, teams.installation(chat, MEGAN, "remove", bot.connector.url))
    await send(bot, teams.installation(chat, MEGAN, "add", bot.connector.url))
    assert len(bot.connector.messages(chat.id)) == 2, "a new installation is welcomed again"


async def test_a_team_is_welcomed_once_in_the_channel_the_user_picked(bot):
    picked = teams.channel_thread(channel=PLANNING)
    picked.conversation["id"] = PLANNING["id"]
    general = teams.channel_thread()
    general.conversation["id"] = GENERAL["id"]
    await send(bot, teams.installation(picked, MEGAN, "add", bot.connector.url))
    await send(bot, teams.members_changed(general, MEGAN, bot.connector.url, added=("bot",)))

    (welcome,) = bot.connector.cards(PLANNING["id"])
    assert "Live polls and approvals, right in this chat" in cards.texts(welcome)
    assert bot.connector.messages(GENERAL["id"]) == []


# Removed: nothing stays (privacy) --------------------------------------------------------------

@pytest.mark.parametrize("action", ["remove", "remove-upgrade"])
async def test_uninstalling_from_the_personal_chat_leaves_every_table_empty(bot, action):
    chat = teams.personal_chat()
    await send(bot, teams.installation(chat, MEGAN, "add", bot.connector.url))
    await bot.say(chat, MEGAN, "poll Lunch? | Pizza | Sushi")
    await vote(bot, chat, MEGAN, "Pizza")
    await send(bot, teams.reaction(chat, MEGAN, card_id(bot, chat), bot.connector.url, added=("like",)))
    assert all(every_row(bot)[t] for t in ("polls", "votes", "sent_messages", "reactions", "offered_polls",
                                           "installations", "personal_chats", "processed_activities"))

    await send(bot, teams.installation(chat, MEGAN, action, bot.connector.url))
    assert {t: rows for t, rows in every_row(bot).items() if rows} == {}


async def test_removing_the_bot_from_a_group_chat_erases_it_and_nothing_else(make_bot, connector):
    bot = await make_bot()
    group, other = teams.group_chat(), teams.personal_chat()
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    await bot.say(other, MEGAN, "poll Keep me? | Yes | No")
    await bot.say(group, MEGAN, "poll Dinner? | Thai | Pizza")
    await vote(bot, group, ALEX, "Thai")
    await send(bot, teams.message(group, MEGAN, LAPTOPS, connector.url, (ALEX, PAT)))

    await send(bot, teams.members_changed(group, MEGAN, connector.url, removed=("bot",)))
    assert rows_mentioning(bot, group.id, "Dinner?", "New laptops") == {}
    assert bot.rows("SELECT question FROM polls") == [("Keep me?",)]
    for person in (ALEX, PAT):  # their 1:1 copies and quick replies are deleted in Teams too
        assert bot.connector.messages(teams.personal_chat(person).id) == []


@pytest.mark.parametrize("event_type", ["teamDeleted", "teamHardDeleted"])
async def test_a_deleted_team_leaves_nothing_in_any_table_or_any_1_1_chat(make_bot, connector, event_type):
    bot = await make_bot()
    connector.rosters[TEAM["id"]] = [p.account() for p in (MEGAN, ALEX, PAT)]
    general, planning = teams.channel_thread(), teams.channel_thread("1700", channel=PLANNING)
    megan = teams.personal_chat()
    await bot.say(megan, MEGAN, "hi")  # Megan's own 1:1 chat stays, with what isn't the team's
    await bot.say(general, MEGAN, "poll Offsite city? | Lisbon | Porto")
    await vote(bot, general, ALEX, "Porto")
    await send(bot, teams.reaction(general, PAT, card_id(bot, general), connector.url, added=("heart",)))
    await send(bot, teams.message(planning, MEGAN, LAPTOPS, connector.url, (ALEX, PAT)))
    alex = teams.personal_chat(ALEX)
    await bot.say(alex, ALEX, "approve")
    await bot.say(teams.personal_chat(PAT), PAT, "reject too expensive")  # ends it: Megan is told
    assert any("New laptops" in t for t in connector.texts(megan.id))
    before = {t: len(rows) for t, rows in every_row(bot).items()}
    assert before["approval_events"] and before["conversation_members"] and before["reactions"]

    await send(bot, teams.team_event(general, MEGAN, event_type, connector.url))

    assert rows_mentioning(bot, TEAM["id"], PLANNING["id"], "Offsite city?", "New laptops", "Porto") == {}
    left = {t: rows for t, rows in every_row(bot).items() if rows}
    # What is left is about the 1:1 chats, which stay: their lanes and rate logs, and the tenant's.
    assert set(left) <= {"conversations", "personal_chats", "processed_activities", "recent_presses",
                         "sent_messages", "installations", "lanes", "send_log"}
    assert {r[1] for r in left["conversations"]} == {"personal"}
    for chat in (megan, alex, teams.personal_chat(PAT)):
        assert not [t for t in connector.texts(chat.id) if "New laptops" in t]
        assert connector.cards(chat.id) == []


# Archived teams and deleted channels ------------------------------------------------------

async def test_an_archived_team_is_read_only_and_its_cards_catch_up_when_unarchived(make_bot, connector):
    bot = await make_bot()
    connector.rosters[TEAM["id"]] = [p.account() for p in (MEGAN, ALEX, PAT)]
    general = teams.channel_thread()
    await bot.say(general, MEGAN, "poll Offsite city? | Lisbon | Porto")
    await send(bot, teams.message(general, MEGAN, LAPTOPS, connector.url, (ALEX, PAT)))
    request = card_id(bot, general, "approval")

    await send(bot, teams.team_event(general, MEGAN, "teamArchived", connector.url))
    calls = len(connector.calls_of("PUT")) + len(connector.calls_of("POST"))
    await vote(bot, general, ALEX, "Lisbon", card_id(bot, general))
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(0,)], "an archived team's polls are read-only"
    await bot.say(teams.personal_chat(ALEX), ALEX, "approve")  # decided in the 1:1 chat, which isn't archived
    await bot.say(teams.personal_chat(PAT), PAT, "approve")
    assert not [c for c in connector.calls if c.conversation_id == general.id and c.method in ("POST", "PUT")
                and connector.calls.index(c) >= calls], "nothing is posted into an archived team"
    assert bot.rows("SELECT COUNT(*) FROM outbox WHERE conversation_id = ?", general.id) == [(1,)]

    await send(bot, teams.team_event(general, MEGAN, "teamUnarchived", connector.url))
    assert cards.texts(connector.card(general.id, request))[0] == "✅ APPROVAL · APPROVED"
    await vote(bot, general, ALEX, "Lisbon")
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)]


async def test_a_deleted_channel_closes_its_polls_and_requests_and_a_restore_reopens_only_those(make_bot, connector):
    bot = await make_bot()
    connector.rosters[TEAM["id"]] = [p.account() for p in (MEGAN, ALEX, PAT)]
    general, planning = teams.channel_thread(), teams.channel_thread("1700", channel=PLANNING)
    await bot.say(general, MEGAN, "poll Stays open? | Yes | No")
    await bot.say(planning, MEGAN, "poll Sprint length? | 1 week | 2 weeks")
    await bot.say(planning, MEGAN, "poll Closed by me? | Yes | No")
    closed_by_me = card_id(bot, planning)
    await bot.press(planning, MEGAN, closed_by_me, await bot.button(planning, MEGAN, closed_by_me, "Close poll"))
    await send(bot, teams.message(planning, MEGAN, LAPTOPS, connector.url, (ALEX, PAT)))
    alex_copy = bot.rows("SELECT k.conversation_id, k.activity_id FROM cards k JOIN approval_copies c "
                         "ON c.card_id = k.id WHERE c.user_id = ?", ALEX.id)[0]

    await send(bot, teams.team_event(general, MEGAN, "channelDeleted", connector.url, channel=PLANNING))
    assert bot.rows("SELECT question, status, closed_reason FROM polls ORDER BY id") == [
        ("Stays open?", "open", ""), ("Sprint length?", "closed", "channel_deleted"), ("Closed by me?", "closed", "")]
    assert bot.rows("SELECT status, closed_reason FROM approvals") == [("cancelled", "channel_deleted")]
    copy = connector.card(*alex_copy)
    assert "Closed because its channel was deleted. It reopens if the channel is restored." in cards.texts(copy)
    assert any("closed because its channel was deleted" in t for t in connector.texts(personal_chat_id(bot, MEGAN)))
    await vote(bot, general, ALEX, "Yes")
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)], "other channels go on"

    await send(bot, teams.team_event(general, MEGAN, "channelRestored", connector.url, channel=PLANNING))
    assert bot.rows("SELECT question, status FROM polls ORDER BY id") == [
        ("Stays open?", "open"), ("Sprint length?", "open"), ("Closed by me?", "closed")]
    assert bot.rows("SELECT status FROM approvals") == [("pending",)]
    assert cards.texts(connector.card(planning.id, card_id(bot, planning, "approval")))[0] == "⏳ APPROVAL · PENDING"
    events = [r[0] for r in bot.rows("SELECT event FROM approval_events ORDER BY id")]
    assert events[-2:] == ["closed", "reopened"]


async def test_renames_update_the_names_in_my_open_polls(bot):
    planning = teams.channel_thread("1700", channel=PLANNING)
    await bot.say(planning, MEGAN, "poll Sprint length? | 1 week | 2 weeks")
    general = teams.channel_thread()
    await send(bot, teams.team_event(general, MEGAN, "channelRenamed", bot.connector.url,
                                     channel={"id": PLANNING["id"], "name": "Roadmap"}))
    await send(bot, teams.team_event(general, MEGAN, "teamRenamed", bot.connector.url,
                                     team={"id": TEAM["id"], "name": "Contoso Global"}))
    personal = teams.personal_chat()
    await bot.say(personal, MEGAN, "my open polls")
    assert "• Sprint length? — 0 people voted · Contoso Global › Roadmap (you asked)" in \
        bot.connector.texts(personal.id)[-1].splitlines()


@pytest.mark.parametrize("event_type", ["channelCreated", "teamRestored"])
async def test_a_new_channel_or_a_restored_team_posts_and_stores_nothing(bot, event_type):
    general = teams.channel_thread()
    await send(bot, teams.team_event(general, MEGAN, event_type, bot.connector.url,
                                     channel={"id": "19:new@thread.skype", "name": "New"}))
    assert bot.connector.calls == []
    assert {t: rows for t, rows in every_row(bot).items() if rows and t != "conversations"} == {}


# People joining and leaving --------------------------------------------------------------

async def test_people_joining_and_leaving_keep_the_roster_current_without_a_word_in_the_chat(make_bot, connector):
    bot = await make_bot()
    group = teams.group_chat()
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    await send(bot, teams.message(group, MEGAN, LAPTOPS, connector.url, (ALEX, PAT)))
    messages_in_chat = len(connector.messages(group.id))

    await send(bot, teams.members_changed(group, MEGAN, connector.url, added=(LEE,)))
    await send(bot, teams.members_changed(group, MEGAN, connector.url, removed=(PAT,)))

    members = {r[0] for r in bot.rows("SELECT user_id FROM conversation_members WHERE conversation_id = ?", group.id)}
    assert members == {MEGAN.id, ALEX.id, LEE.id}
    assert len(connector.messages(group.id)) == messages_in_chat, "the chat itself hears nothing"
    told = connector.texts(personal_chat_id(bot, MEGAN))[-1]
    assert told.startswith("Patti Fernandez left a group chat but still has to decide on your request “New laptops”")
    assert bot.rows("SELECT event, detail FROM approval_events ORDER BY id")[-1] == ("approver_left", "Patti Fernandez")


# Events the bot doesn't know ----------------------------------------------------------------

async def test_unknown_events_get_200_and_a_debug_line(bot, caplog):
    chat = teams.personal_chat()
    url = bot.connector.url
    future_update = teams.team_event(teams.channel_thread(), MEGAN, "channelArchived", url)
    future_event = teams.read_receipt(chat, MEGAN, "1", url)
    future_event["name"] = "application/vnd.microsoft.somethingNew"
    future_type = teams.installation(chat, MEGAN, "add", url)
    future_type["type"] = "somethingNew"
    unknown_edit = teams.edited(chat, MEGAN, "42", "hello", url)
    unknown_edit["channelData"]["eventType"] = "pinMessage"
    with caplog.at_level(logging.DEBUG, logger="poll_bot"):
        for activity in (future_update, future_event, future_type, unknown_edit):
            await send(bot, activity)
    assert bot.connector.calls == []
    logged = caplog.text
    assert "channelArchived" in logged and "somethingNew" in logged and "pinMessage" in logged
