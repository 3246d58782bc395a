"""Polls, end to end through the real app: what users see and what is stored."""
from __future__ import annotations

import pytest

from tests.support import cards, teams
from tests.support.teams import ALEX, MEGAN, PAT

LUNCH = "poll Lunch on Friday? | Pizza | Sushi | Tacos"


@pytest.fixture(params=["submit", "invoke"])
def press_path(request):
    """Every scenario here runs with Action.Submit presses and with Action.Execute invokes."""
    return request.param


async def post_poll(bot, chat, text=LUNCH, user=MEGAN):
    await bot.say(chat, user, text)
    posts = [c for c in bot.connector.calls_of("POST") if c.body.get("attachments")]
    assert posts, "the bot sent no card"
    return posts[-1].activity_id


def card_of(bot, chat, activity_id):
    return bot.connector.card(chat.id, activity_id)


async def test_channel_poll_is_one_card_with_a_button_per_option(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat)

    assert len(bot.connector.messages(chat.id)) == 1
    card = card_of(bot, chat, card_id)
    assert "Lunch on Friday?" in cards.texts(card)
    assert list(cards.vote_buttons(card)) == ["Pizza", "Sushi", "Tacos"]
    assert cards.fallbacks_match(card), "every Action.Execute falls back to an Action.Submit with the same payload"
    assert card["actions"] == [], "the shared card shows only what anyone may press: the options"
    assert "Close poll" in cards.buttons(await bot.view(chat, MEGAN, card_id))
    assert bot.rows("SELECT question, status, multiple_choice FROM polls") == [("Lunch on Friday?", "open", 0)]
    assert bot.rows("SELECT label FROM poll_options ORDER BY position") == [("Pizza",), ("Sushi",), ("Tacos",)]
    assert bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'") == [(card_id,)]
    conversation = bot.rows("SELECT id, conversation_type, tenant_id, service_url FROM conversations")
    assert conversation == [(chat.id, "channel", teams.TENANT, bot.connector.url)]


async def test_votes_update_the_same_card_in_place(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat)
    vote = cards.vote_buttons(card_of(bot, chat, card_id))

    await bot.press(chat, MEGAN, card_id, vote["Pizza"])
    await bot.press(chat, ALEX, card_id, vote["Sushi"])
    await bot.press(chat, PAT, card_id, vote["Sushi"])

    card = card_of(bot, chat, card_id)
    assert cards.option_counts(card) == {"Pizza": "1 vote · 33%", "Sushi": "2 votes · 67%", "Tacos": "0 votes · 0%"}
    assert "3 people voted" in cards.texts(card)
    assert len(bot.connector.messages(chat.id)) == 1, "a vote must not post a new message"
    assert {c.activity_id for c in bot.connector.calls_of("PUT")} == {card_id}
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(3,)]


async def test_single_choice_moves_and_retracts_a_vote(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat)
    vote = cards.vote_buttons(card_of(bot, chat, card_id))

    await bot.press(chat, MEGAN, card_id, vote["Pizza"])
    await bot.press(chat, MEGAN, card_id, vote["Tacos"])
    assert bot.rows("SELECT o.label FROM votes v JOIN poll_options o USING (poll_id, position)") == [("Tacos",)]
    assert cards.option_counts(card_of(bot, chat, card_id))["Tacos"] == "1 vote · 100%"

    await bot.press(chat, MEGAN, card_id, vote["Tacos"])
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(0,)]
    card = card_of(bot, chat, card_id)
    assert set(cards.option_counts(card).values()) == {"0 votes"}
    assert "No votes yet." in cards.texts(card)


async def test_creation_form_posts_a_multiple_choice_poll_and_becomes_a_confirmation(bot):
    chat = teams.personal_chat()
    await bot.say(chat, MEGAN, "Poll")
    form_id = bot.connector.calls_of("POST")[-1].activity_id
    form = card_of(bot, chat, form_id)
    submit = cards.buttons(form)["Post poll"]

    inputs = {"question": "Which days work?", "options": "Mon\nTue\n\nWed\n", "choice_mode": "multiple"}
    await bot.press(chat, MEGAN, form_id, submit, inputs)

    form_message, poll_message, quick_replies = bot.connector.messages(chat.id)
    confirmation = card_of(bot, chat, form_id)
    assert cards.texts(confirmation) == ["✅ Poll posted", "Which days work?"]
    assert cards.buttons(confirmation) == {}
    assert [a["title"] for a in quick_replies["suggestedActions"]["actions"]] == ["Mon", "Tue", "Wed"]
    poll_id = bot.connector.calls_of("POST")[1].activity_id
    poll = card_of(bot, chat, poll_id)
    assert list(cards.vote_buttons(poll)) == ["Mon", "Tue", "Wed"]
    assert bot.rows("SELECT multiple_choice FROM polls") == [(1,)]

    vote = cards.vote_buttons(poll)
    await bot.press(chat, MEGAN, poll_id, vote["Mon"])
    await bot.press(chat, MEGAN, poll_id, vote["Wed"])
    await bot.press(chat, MEGAN, poll_id, vote["Mon"])
    assert bot.rows("SELECT position FROM votes") == [(2,)]
    assert cards.option_counts(card_of(bot, chat, poll_id))["Wed"] == "1 vote · 100%"


async def test_form_with_bad_input_shows_the_problem_and_keeps_what_was_typed(bot):
    chat = teams.personal_chat()
    await bot.say(chat, MEGAN, "poll")
    form_id = bot.connector.calls_of("POST")[-1].activity_id
    submit = cards.buttons(card_of(bot, chat, form_id))["Post poll"]

    typed = {"question": "Only one?", "options": "Yes", "choice_mode": "single", "max_choices": "0",
             "anonymous": "true", "hidden": "false", "add_options": "true", "closes_date": "2026-12-01",
             "closes_time": "09:30"}
    await bot.press(chat, MEGAN, form_id, submit, typed)

    form = card_of(bot, chat, form_id)
    assert any("Give 2 to 10 options (you gave 1)" in t for t in cards.texts(form))
    inputs = {i["id"]: i.get("value") for i in form["body"] if i["type"].startswith("Input.")}
    assert inputs == typed
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)]
    assert len(bot.connector.messages(chat.id)) == 1


async def test_a_used_or_foreign_form_posts_nothing(bot):
    chat = teams.channel_thread()
    await bot.say(chat, MEGAN, "poll")
    form_id = bot.connector.calls_of("POST")[-1].activity_id
    submit = cards.buttons(card_of(bot, chat, form_id))["Post poll"]
    inputs = {"question": "Q?", "options": "A\nB", "choice_mode": "single"}

    await bot.press(chat, ALEX, form_id, submit, inputs)
    assert bot.refusal(ALEX) == "That form belongs to someone else. Type `poll` to get your own."
    await bot.press(chat, MEGAN, form_id, submit, inputs)
    await bot.press(chat, MEGAN, form_id, submit, inputs)
    assert bot.refusal(MEGAN) == "That form was already used. Type `poll` for a new form."
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(1,)]


async def test_only_the_creator_closes_and_reopens(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat)
    card = card_of(bot, chat, card_id)
    await bot.press(chat, ALEX, card_id, cards.vote_buttons(card)["Sushi"])

    assert "Close poll" not in cards.buttons(await bot.view(chat, ALEX, card_id)), "only the creator sees it"
    close = await bot.button(chat, MEGAN, card_id, "Close poll")
    await bot.press(chat, ALEX, card_id, close)  # a forged or shared press of the creator's button
    assert bot.refusal(ALEX) == "Only Megan Bowen, who created this poll, can close it."
    assert bot.rows("SELECT status FROM polls") == [("open",)]

    await bot.press(chat, MEGAN, card_id, close)
    closed = card_of(bot, chat, card_id)
    assert bot.rows("SELECT status FROM polls") == [("closed",)]
    assert cards.buttons(closed) == {}, "the closed shared card has no buttons"
    assert list(cards.buttons(await bot.view(chat, MEGAN, card_id))) == ["Reopen poll", "Export results", "Yes, delete it"]
    assert cards.highlighted(closed) == ["Sushi"]
    assert cards.option_counts(closed)["Sushi"] == "1 vote · 100%"
    assert "Sushi won with 1 of 1 vote" in cards.texts(closed)

    await bot.press(chat, PAT, card_id, cards.vote_buttons(card)["Pizza"])
    assert bot.refusal(PAT) == "This poll is closed, so your vote was not recorded."
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)]

    reopen = await bot.button(chat, MEGAN, card_id, "Reopen poll")
    await bot.press(chat, PAT, card_id, reopen)
    assert bot.rows("SELECT status FROM polls") == [("closed",)]
    await bot.press(chat, MEGAN, card_id, reopen)
    assert list(cards.vote_buttons(card_of(bot, chat, card_id))) == ["Pizza", "Sushi", "Tacos"]
    assert len([m for m in bot.connector.messages(chat.id) if m.get("attachments")]) == 1


async def test_forged_and_stale_payloads_change_nothing(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat)
    vote = cards.vote_buttons(card_of(bot, chat, card_id))["Pizza"]
    other_chat = teams.group_chat()

    forged = [
        {"verb": "poll.vote", "poll": vote["poll"], "option": 0},  # no version
        {**vote, "v": 2},
        {**vote, "verb": "poll.explode"},
        {**vote, "option": True},
        {**vote, "poll": str(vote["poll"])},
        {**vote, "option": -1},
        "not an object",
    ]
    unknown = "That button isn't one I recognise, so nothing was changed. Try the latest card."
    for value in forged:
        await bot.press(chat, ALEX, card_id, value)
        if bot.path == "invoke" and isinstance(value, dict):
            assert bot.answers[ALEX.id] == {"statusCode": 400, "type": "application/vnd.microsoft.error",
                                            "value": {"code": "BadRequest", "message": unknown}}
        else:
            assert bot.told(ALEX)[-1] == unknown
    refusals = []
    for where, value in ((chat, {**vote, "option": 7}), (chat, {**vote, "poll": 999}), (other_chat, vote)):
        await bot.press(where, ALEX, card_id, value)
        refusals.append(bot.refusal(ALEX))

    assert bot.rows("SELECT COUNT(*) FROM votes") == [(0,)]
    assert refusals == ["That option isn't on this poll, so nothing was changed.",
                        "This poll no longer exists, so nothing was changed.",
                        "That poll isn't in this conversation, so nothing was changed."]
    assert bot.connector.texts(chat.id) == bot.connector.texts(other_chat.id) == [], "only Alex is told"
    assert bot.connector.calls_of("PUT") == []


async def test_update_targets_the_stored_card_id_not_the_client_reply_to_id(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat)
    vote = cards.vote_buttons(card_of(bot, chat, card_id))

    await bot.press(chat, ALEX, card_id, vote["Tacos"], reply_to_id="1999999999999")

    assert [c.activity_id for c in bot.connector.calls_of("PUT")] == [card_id]
    assert cards.option_counts(card_of(bot, chat, card_id))["Tacos"] == "1 vote · 100%"


async def test_a_redelivered_press_counts_once(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat)
    vote = cards.vote_buttons(card_of(bot, chat, card_id))["Pizza"]
    activity = teams.submit(chat, ALEX, vote, card_id, bot.connector.url)

    assert await bot.post(activity) in (200, 201)
    assert await bot.post(activity) in (200, 201)
    await bot.settle()

    assert bot.rows("SELECT user_id FROM votes") == [(ALEX.id,)]
    assert cards.option_counts(card_of(bot, chat, card_id))["Pizza"] == "1 vote · 100%"


async def test_invalid_polls_are_refused_with_what_to_fix(bot):
    chat = teams.group_chat()
    cases = {
        "poll Lunch? | Pizza": "Give 2 to 10 options (you gave 1).",
        "poll " + "x" * 301 + " | a | b": "Shorten the question to 300 characters (it has 301).",
        "poll Q | " + " | ".join(str(i) for i in range(11)): "Give 2 to 10 options (you gave 11).",
        "poll Q | Pizza | pizza": 'Each option must be different: "Pizza", "pizza" repeats.',
        "poll Q | a | " + "y" * 101: "to 100 characters (it has 101).",
        "poll | a | b": "Write a question.",
    }
    for text, problem in cases.items():
        await bot.say(chat, MEGAN, text)
        reply = bot.connector.texts(chat.id)[-1]
        assert problem in reply, reply
        assert reply.startswith("I couldn't create that poll.")
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)]


async def test_commands_ignore_case_and_the_bot_mention_and_unknown_text_gets_help(bot):
    chat = teams.channel_thread()
    await bot.say(chat, MEGAN, "POLL Tea or coffee? | Tea | Coffee")
    assert bot.rows("SELECT question FROM polls") == [("Tea or coffee?",)]

    await bot.say(chat, MEGAN, "what can you do?")
    assert "Live polls and approvals, right in this chat" in cards.texts(bot.connector.cards(chat.id)[-1])


async def test_user_text_is_shown_literally(bot):
    chat = teams.personal_chat()
    question = 'He said "hi" \\o/ {{ 7*7 }} <at>Bob</at> **bold** _x_ [a](http://x) 🍕\nline two'
    options = ['Say "yes"', "C:\\temp\\", "{% raw %}", "<at>Everyone</at>", "- [ ] list", "👍🏽 ok"]
    card_id = await post_poll(bot, chat, "poll " + question + " | " + " | ".join(options))

    card = card_of(bot, chat, card_id)
    assert question.replace("<at>Bob</at>", "Bob") in cards.texts(card)
    assert list(cards.vote_buttons(card)) == [o.replace("<at>Everyone</at>", "Everyone") for o in options]


async def test_service_url_is_refreshed_from_every_inbound_activity(bot):
    chat = teams.personal_chat()
    await bot.say(chat, MEGAN, "hello")
    moved = teams.message(chat, MEGAN, "hello again", "https://smba.trafficmanager.net/emea/")
    assert await bot.post(moved) in (200, 201)
    assert bot.rows("SELECT service_url FROM conversations") == [("https://smba.trafficmanager.net/emea/",)]


async def test_malformed_requests_are_refused_and_store_nothing(bot):
    async with bot.session.post(bot.url, data="{not json", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400
    async with bot.session.post(bot.url, json={"type": "message"}) as r:
        assert r.status == 400
    async with bot.session.post(bot.url, data="hello", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415
    assert bot.rows("SELECT COUNT(*) FROM conversations") == [(0,)]
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)]


def who_voted(card):
    """What the collapsed "Who voted" lists: option -> the names line."""
    (section,) = [a["card"] for a in card["actions"] if a["title"] == "Who voted"]
    shown = cards.texts(section)
    return dict(zip(shown[::2], shown[1::2]))


async def test_who_voted_lists_names_per_option_and_counts_the_rest(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat)
    assert [a["title"] for a in card_of(bot, chat, card_id)["actions"]] == [], "nobody voted yet"
    vote = cards.vote_buttons(card_of(bot, chat, card_id))
    crowd = [teams.Person(f"29:crowd-{i:02d}", f"Voter {i:02d}") for i in range(18)]
    for person in (ALEX, *crowd):
        await bot.press(chat, person, card_id, vote["Sushi"])
    await bot.press(chat, PAT, card_id, vote["Pizza"])

    listed = who_voted(card_of(bot, chat, card_id))
    assert listed["Pizza"] == "Patti Fernandez"
    first = ["Alex Wilber"] + [p.name for p in crowd[:14]]
    assert listed["Sushi"] == ", ".join(first) + " and 4 more", "the first 15 by time, then how many more"
    assert "Tacos" not in listed, "an option nobody chose is left out"


in_every_scope = pytest.mark.parametrize("make_chat", [teams.personal_chat, teams.group_chat, teams.channel_thread],
                                         ids=["1:1 chat", "group chat", "channel"])


@in_every_scope
async def test_the_creator_edits_a_poll_on_its_card_before_anyone_votes(bot, make_chat):
    chat = make_chat()
    card_id = await post_poll(bot, chat)
    save = await bot.button(chat, MEGAN, card_id, "Save changes")  # in the creator's "Edit poll"
    if chat.conversation["conversationType"] != "personal":  # nobody else is in Megan's 1:1 chat
        assert "Save changes" not in cards.buttons(await bot.view(chat, ALEX, card_id))
        await bot.press(chat, ALEX, card_id, save, {"question": "Hijacked?", "options": "A\nB"})
        assert bot.refusal(ALEX) == "Only Megan Bowen, who created this poll, can edit it."
    await bot.press(chat, MEGAN, card_id, save, {"question": "Lunch on Thursday?", "options": "Pizza\nRamen"})

    assert bot.rows("SELECT question FROM polls") == [("Lunch on Thursday?",)]
    card = card_of(bot, chat, card_id)
    assert "Lunch on Thursday?" in cards.texts(card) and list(cards.vote_buttons(card)) == ["Pizza", "Ramen"]


@in_every_scope
async def test_after_the_first_vote_options_can_only_be_added_at_the_end(bot, make_chat):
    chat = make_chat()
    card_id = await post_poll(bot, chat)
    await bot.press(chat, MEGAN, card_id, cards.vote_buttons(card_of(bot, chat, card_id))["Sushi"])
    save = await bot.button(chat, MEGAN, card_id, "Save changes")
    kept = "I kept the poll as it was. "

    for inputs, problem in (
        ({"question": "Lunch on Friday?", "options": "Pizza\nSoup\nTacos"}, kept + "People have already voted"),
        ({"question": "Dinner?", "options": "Pizza\nSushi\nTacos\nCurry"}, kept + "People have already voted"),
        ({"question": "Lunch on Friday?", "options": "Pizza\nSushi\nTacos\n  sushi "}, kept + "Each option must"),
        ({"question": "Lunch on Friday?", "options": "\n".join(["Pizza", "Sushi", "Tacos", *"abcdefgh"])},
         kept + "Give 2 to 10 options (you gave 11)."),
    ):
        await bot.press(chat, MEGAN, card_id, save, inputs)
        assert bot.refusal(MEGAN).startswith(problem), bot.refusal(MEGAN)
    assert bot.rows("SELECT label FROM poll_options ORDER BY position") == [("Pizza",), ("Sushi",), ("Tacos",)]

    await bot.press(chat, MEGAN, card_id, save, {"question": "Lunch on Friday?", "options": "Pizza\nSushi\nTacos\nCurry"})
    card = card_of(bot, chat, card_id)
    assert list(cards.vote_buttons(card)) == ["Pizza", "Sushi", "Tacos", "Curry"]
    assert cards.option_counts(card)["Sushi"] == "1 vote · 100%", "the vote still counts for what it chose"
    assert bot.rows("SELECT o.label FROM votes v JOIN poll_options o USING (poll_id, position)") == [("Sushi",)]


async def test_a_press_on_a_card_shown_before_an_edit_counts_for_nothing(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat)
    old_card = cards.vote_buttons(card_of(bot, chat, card_id))
    save = await bot.button(chat, MEGAN, card_id, "Save changes")
    await bot.press(chat, MEGAN, card_id, save, {"question": "Lunch on Friday?", "options": "Sushi\nPizza"})

    for option in ("Pizza", "Sushi", "Tacos"):  # Alex's Teams still shows the card as it was
        await bot.press(chat, ALEX, card_id, old_card[option])
        assert bot.refusal(ALEX) == ("This poll was edited after your card was shown, so your vote was not recorded. "
                                     "Vote again on the card as it is now.")
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(0,)]
    assert bot.connector.texts(chat.id) == [], "only Alex is told"

    await bot.press(chat, ALEX, card_id, cards.vote_buttons(card_of(bot, chat, card_id))["Pizza"])
    assert bot.rows("SELECT o.label FROM votes v JOIN poll_options o USING (poll_id, position)") == [("Pizza",)]
