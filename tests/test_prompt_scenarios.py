"""Quick replies in the 1:1 chat (suggested actions), help outside it, and the
"My open polls" / "Pending approvals" lists across every conversation."""
from __future__ import annotations

from tests.support import cards, teams
from tests.support.fake_connector import shown_text
from tests.support.teams import ALEX, MEGAN, PAT, PLANNING

MENU_FIRST_THREE = ["New poll", "My open polls", "Pending approvals"]
LUNCH = "poll Lunch on Friday? | Pizza | Sushi | Tacos"


def last_message(bot, chat):
    """The newest message in the chat, its text as shown."""
    message = bot.connector.messages(chat.id)[-1]
    return {**message, "text": shown_text(message)} if message.get("text") else message


def quick_replies(message):
    return [a["title"] for a in message.get("suggestedActions", {}).get("actions", [])]


def named_group_chat():
    chat = teams.group_chat()
    chat.conversation["name"] = "Offsite crew"
    return chat


async def tap(bot, chat, user, title):
    """What Teams posts when a quick reply is tapped: a plain message with its text."""
    await bot.say(chat, user, title)


async def test_anything_but_a_command_gets_a_short_answer_with_the_menu(bot):
    chat = teams.personal_chat()
    await bot.say(chat, MEGAN, "hello there")

    answer = last_message(bot, chat)
    assert answer["text"].startswith("I didn't catch that.")
    assert not answer.get("attachments")
    replies = quick_replies(answer)
    assert replies[:3] == MENU_FIRST_THREE and len(replies) <= 6
    assert all(a["type"] == "imBack" and a["value"] == a["title"] for a in answer["suggestedActions"]["actions"])

    await tap(bot, chat, MEGAN, "Help")
    assert "I run live polls and approvals" in last_message(bot, chat)["text"]
    assert quick_replies(last_message(bot, chat))[:3] == MENU_FIRST_THREE


async def test_tapping_new_poll_returns_the_poll_form_and_new_approval_the_request_form(bot):
    chat = teams.personal_chat()
    await tap(bot, chat, MEGAN, "New poll")
    form = bot.connector.cards(chat.id)[-1]
    assert "Post poll" in cards.buttons(form)

    await tap(bot, chat, MEGAN, "New approval")
    assert bot.connector.cards(chat.id)[-1]["fallbackText"] == "Request an approval"
    assert bot.rows("SELECT kind FROM cards ORDER BY id") == [("poll_form",), ("approval_form",)]


async def test_outside_the_personal_chat_help_is_a_card_without_quick_replies(bot):
    for chat in (teams.channel_thread(), teams.group_chat()):
        await bot.say(chat, MEGAN, "what is this")
        answer = last_message(bot, chat)
        assert "Live polls and approvals, right in this chat" in cards.texts(answer["attachments"][0]["content"])
        assert "suggestedActions" not in answer


async def test_a_1_1_poll_offers_its_options_as_quick_replies_and_tapping_one_votes(bot):
    chat = teams.personal_chat()
    await bot.say(chat, MEGAN, LUNCH)
    card_message, offer = bot.connector.messages(chat.id)
    assert card_message.get("attachments") and "suggestedActions" not in card_message
    assert not offer.get("attachments")
    assert quick_replies(offer) == ["Pizza", "Sushi", "Tacos"]

    await tap(bot, chat, MEGAN, "Sushi")
    card_id = bot.connector.calls_of("POST")[0].activity_id
    assert cards.option_counts(bot.connector.card(chat.id, card_id))["Sushi"] == "1 vote · 100%"
    assert bot.rows("SELECT position, user_id FROM votes") == [(1, MEGAN.id)]
    assert [m.get("attachments") is None for m in bot.connector.messages(chat.id)] == [False, True, True]
    assert last_message(bot, chat)["text"] == "Your vote: Sushi.", "the tap votes, with a one-line confirmation"
    await tap(bot, chat, MEGAN, "sushi")
    assert last_message(bot, chat)["text"] == "You took back your vote for Sushi."
    assert bot.rows("SELECT position FROM votes") == []
    await tap(bot, chat, MEGAN, "Sushi")

    # A quick reply of a closed poll is ordinary text again.
    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Close poll"))
    await tap(bot, chat, MEGAN, "Pizza")
    assert bot.rows("SELECT position FROM votes") == [(1,)]
    assert last_message(bot, chat)["text"].startswith("I didn't catch that.")


async def test_more_than_six_options_get_no_quick_replies_and_shared_chats_never_do(bot):
    personal = teams.personal_chat()
    await bot.say(personal, MEGAN, "poll Day? | Mon | Tue | Wed | Thu | Fri | Sat | Sun")
    assert [bool(m.get("attachments")) for m in bot.connector.messages(personal.id)] == [True]

    channel = teams.channel_thread()
    await bot.say(channel, MEGAN, LUNCH)
    assert [bool(m.get("attachments")) for m in bot.connector.messages(channel.id)] == [True]


async def test_no_message_ever_carries_both_an_attachment_and_quick_replies(make_bot, connector):
    bot = await make_bot()
    group = teams.group_chat()
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    personal = teams.personal_chat()
    await bot.say(personal, MEGAN, "hi")
    await bot.say(personal, MEGAN, LUNCH)
    await bot.say(personal, MEGAN, "poll")
    await bot.post(teams.message(group, MEGAN, "approval Budget | Q3 <at>Alex Wilber</at>", connector.url, (ALEX,)))
    await bot.settle()

    sent = [c for c in connector.calls_of("POST")]
    assert any(c.body.get("suggestedActions") for c in sent) and any(c.body.get("attachments") for c in sent)
    assert not [c for c in sent if c.body.get("suggestedActions") and c.body.get("attachments")]
    personal_chats = {r[0] for r in bot.rows("SELECT id FROM conversations WHERE conversation_type = 'personal'")}
    assert {c.conversation_id for c in sent if c.body.get("suggestedActions")} <= personal_chats


async def test_my_open_polls_lists_every_conversation_by_name(bot):
    planning = teams.channel_thread(channel=PLANNING)
    group = named_group_chat()
    await bot.say(planning, MEGAN, "poll Sprint length? | 1 week | 2 weeks")
    await bot.say(group, MEGAN, "poll Dinner? | Thai | Pizza")
    await bot.say(group, ALEX, "poll Museum? | Yes | No")
    group_cards = bot.rows("SELECT activity_id FROM cards WHERE conversation_id = ? ORDER BY id", group.id)
    museum = bot.connector.card(group.id, group_cards[1][0])
    await bot.press(group, MEGAN, group_cards[1][0], cards.vote_buttons(museum)["Yes"])

    personal = teams.personal_chat()
    await tap(bot, personal, MEGAN, "My open polls")
    lines = last_message(bot, personal)["text"].splitlines()
    assert lines == [
        "Your open polls:",
        "• Museum? — 1 person voted · Offsite crew (you voted)",
        "• Dinner? — 0 people voted · Offsite crew (you asked)",
        "• Sprint length? — 0 people voted · Contoso Sales › Planning (you asked)",
    ]
    assert quick_replies(last_message(bot, personal))[:3] == MENU_FIRST_THREE

    await tap(bot, teams.personal_chat(PAT), PAT, "My open polls")
    assert last_message(bot, teams.personal_chat(PAT))["text"].startswith("You have no open polls.")


async def test_pending_approvals_lists_what_waits_for_you_and_your_own_requests(make_bot, connector):
    bot = await make_bot()
    group = named_group_chat()
    connector.rosters[group.id] = [p.account() for p in (MEGAN, ALEX, PAT)]
    text = "approval New laptops | Three 14-inch <at>Alex Wilber</at> <at>Patti Fernandez</at>"
    await bot.post(teams.message(group, MEGAN, text, connector.url, (ALEX, PAT)))
    await bot.settle()

    alex = teams.personal_chat(ALEX)
    await tap(bot, alex, ALEX, "Pending approvals")
    assert last_message(bot, alex)["text"].splitlines() == [
        "Waiting for your decision:", "• #1 New laptops (from Megan Bowen) · Offsite crew"]

    megan = teams.personal_chat()
    await tap(bot, megan, MEGAN, "Pending approvals")
    assert last_message(bot, megan)["text"].splitlines() == [
        "Your requests still open:", "• #1 New laptops — 0 of 2 approved · Offsite crew"]


async def test_asking_for_a_list_in_a_shared_chat_answers_in_the_1_1_chat(bot):
    channel = teams.channel_thread()
    await bot.say(channel, MEGAN, "my open polls")
    assert last_message(bot, channel)["text"].startswith("That list covers all your chats")

    personal = teams.personal_chat()
    await bot.say(personal, MEGAN, "hi")
    await bot.say(channel, MEGAN, LUNCH)
    await bot.say(channel, MEGAN, "My open polls")
    assert last_message(bot, channel)["text"] == "Megan Bowen, I sent that to our 1:1 chat."
    assert "Lunch on Friday?" in last_message(bot, personal)["text"]
    assert "Lunch on Friday?" not in last_message(bot, channel)["text"]


async def test_a_channel_poll_is_named_by_its_team_and_channel_though_its_messages_carry_no_names(bot):
    """Teams names the team and channel only in events (installation, channelCreated); a reply
    chain's messages carry ids alone, and the poll is stored under the reply chain's id."""
    named_general = teams.channel_thread()
    installed_in = teams.Chat({**named_general.conversation, "id": teams.GENERAL["id"]},
                              named_general.channel_data, mention_bot=True)
    await bot.post(teams.installation(installed_in, MEGAN, "add", bot.connector.url))
    await bot.post(teams.team_event(named_general, MEGAN, "channelCreated", bot.connector.url, channel=PLANNING))
    await bot.say(teams.channel_thread("1700000000001", named=False), MEGAN, "poll Offsite? | Porto | Lisbon")
    await bot.say(teams.channel_thread("1700000000002", PLANNING, named=False), MEGAN, "poll Sprint? | 1w | 2w")

    personal = teams.personal_chat()
    await tap(bot, personal, MEGAN, "My open polls")
    assert last_message(bot, personal)["text"].splitlines()[1:] == [
        "• Sprint? — 0 people voted · Contoso Sales › Planning (you asked)",
        "• Offsite? — 0 people voted · Contoso Sales › General (you asked)",
    ]
