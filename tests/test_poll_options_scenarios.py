"""Poll options (issue 11) end to end through the real app, on both press paths and both databases:
each flag of `poll --flag ... Question | Option | ...` (and its bad values), the same choices in
the creation form, choosing up to N, hidden results, closing times, adding options on the card."""
from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from poll_bot.app import TIMERS
from tests.support import cards, teams
from tests.support.teams import ALEX, MEGAN, PAT

LUNCH = "Lunch on Friday? | Pizza | Sushi | Tacos"
CLOSED = "📊 The poll “Lunch on Friday?” is closed. "  # the result message starts so
SEED_ZONE = "America/Los_Angeles"  # the clientInfo time zone of the message seed


@pytest.fixture(params=["submit", "invoke"])
def press_path(request):
    return request.param


only_typed = pytest.mark.parametrize("press_path", ["submit"])  # nothing is pressed: one path is enough


async def post_poll(bot, chat, text, user=MEGAN) -> str:
    await bot.say(chat, user, text)
    rows = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll' ORDER BY id DESC LIMIT 1")
    assert rows, bot.connector.texts(chat.id)
    return rows[0][0]


def shared(bot, chat, card_id) -> dict:
    return bot.connector.card(chat.id, card_id)


def stored(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def refused_with(bot, chat, text: str) -> str:
    """The reply to a `poll` command that created nothing."""
    await bot.say(chat, MEGAN, text)
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)], "nothing is created"
    reply = bot.connector.texts(chat.id)[-1]
    assert reply.startswith("I couldn't create that poll."), reply
    return reply


# One scenario per flag -------------------------------------------------------------

async def test_multi_lets_each_person_choose_any_number(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll --multi {LUNCH}")
    vote = cards.vote_buttons(shared(bot, chat, card_id))
    for option in ("Pizza", "Sushi", "Tacos"):
        await bot.press(chat, ALEX, card_id, vote[option])

    assert bot.rows("SELECT multiple_choice, max_choices FROM polls") == [(1, 0)]
    assert bot.rows("SELECT COUNT(*) FROM votes WHERE user_id = ?", ALEX.id) == [(3,)]
    card = shared(bot, chat, card_id)
    assert "📊 POLL · CHOOSE ANY" in cards.texts(card)
    assert cards.option_counts(card)["Tacos"] == "1 vote · 100%"


async def test_max_lets_each_person_choose_up_to_n_and_says_so_only_to_them(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat, f"poll --max=2 {LUNCH}")
    vote = cards.vote_buttons(shared(bot, chat, card_id))
    assert "📊 POLL · CHOOSE UP TO 2" in cards.texts(shared(bot, chat, card_id))

    await bot.press(chat, ALEX, card_id, vote["Pizza"])
    await bot.press(chat, ALEX, card_id, vote["Sushi"])
    await bot.press(chat, ALEX, card_id, vote["Tacos"])
    assert bot.refusal(ALEX) == ("You already chose 2 options, the most this poll allows: "
                                 "tap one of yours to take it back first.")
    assert bot.connector.texts(chat.id) == [], "the refusal is Alex's alone"
    assert cards.my_votes(await bot.view(chat, ALEX, card_id)) == ["Pizza", "Sushi"]

    await bot.press(chat, ALEX, card_id, vote["Pizza"])
    await bot.press(chat, ALEX, card_id, vote["Tacos"])
    assert cards.my_votes(await bot.view(chat, ALEX, card_id)) == ["Sushi", "Tacos"]
    assert bot.rows("SELECT position FROM votes ORDER BY position") == [(1,), (2,)]


async def test_max_1_is_a_single_choice_poll(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll --max=1 {LUNCH}")
    assert bot.rows("SELECT multiple_choice, max_choices FROM polls") == [(0, 0)]
    assert "📊 POLL · CHOOSE ONE" in cards.texts(shared(bot, chat, card_id))

    vote = cards.vote_buttons(shared(bot, chat, card_id))
    await bot.press(chat, ALEX, card_id, vote["Pizza"])
    await bot.press(chat, ALEX, card_id, vote["Sushi"])  # moves his vote
    assert bot.rows("SELECT position FROM votes") == [(1,)]
    assert cards.my_votes(await bot.view(chat, ALEX, card_id)) == ["Sushi"]


async def test_the_issues_example_sets_every_option_and_the_card_shows_them(bot):
    chat = teams.channel_thread()
    before = datetime.now(timezone.utc)
    card_id = await post_poll(bot, chat, f"poll --anonymous --hidden --closes=2h --max=2 --add-options {LUNCH}")
    after = datetime.now(timezone.utc)

    (question, *settings, closes_at), = bot.rows(
        "SELECT question, multiple_choice, max_choices, anonymous, hidden, anyone_adds, closes_at FROM polls")
    assert (question, *settings) == ("Lunch on Friday?", 1, 2, 1, 1, 1)
    assert before + timedelta(hours=2) <= stored(closes_at) <= after + timedelta(hours=2)
    await bot.press(chat, ALEX, card_id, cards.vote_buttons(shared(bot, chat, card_id))["Pizza"])
    card = shared(bot, chat, card_id)
    texts = cards.texts(card)
    assert texts[0] == "📊 POLL · CHOOSE UP TO 2 · ANONYMOUS · RESULTS HIDDEN"
    assert "Lunch on Friday?" in texts and any(text.startswith("⏰ Closes {{DATE(") for text in texts)
    assert "1 person voted · results show when the poll closes" in texts
    assert cards.options(card) == ["Pizza", "Sushi", "Tacos"] and cards.option_counts(card) == {}
    assert "Add option" in cards.buttons(card), "anyone may add options"
    assert bot.rows("SELECT user_name FROM votes") == [("",)], "anonymous: no name stored"


@pytest.mark.parametrize("dash", ["—", "–"])
async def test_a_dash_a_phone_made_of_two_hyphens_works_as_the_flag(bot, dash):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll {dash}anonymous {dash}hidden Secret? | Yes | No")
    assert bot.rows("SELECT question, anonymous, hidden FROM polls") == [("Secret?", 1, 1)]
    assert "📊 POLL · CHOOSE ONE · ANONYMOUS · RESULTS HIDDEN" in cards.texts(shared(bot, chat, card_id))


async def test_anonymous_shows_nobody_who_voted_and_still_marks_each_persons_own_vote(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat, f"poll --anonymous {LUNCH}")
    vote = cards.vote_buttons(shared(bot, chat, card_id))
    for person, option in ((ALEX, "Pizza"), (PAT, "Sushi"), (ALEX, "Sushi")):  # Alex moves his vote
        await bot.press(chat, person, card_id, vote[option])

    card = shared(bot, chat, card_id)
    assert cards.option_counts(card) == {"Pizza": "0 votes · 0%", "Sushi": "2 votes · 100%", "Tacos": "0 votes · 0%"}
    assert "📊 POLL · CHOOSE ONE · ANONYMOUS" in cards.texts(card)
    assert card["refresh"]["userIds"] == [MEGAN.id], "a list of voters would say who voted"
    creators_view = await bot.view(chat, MEGAN, card_id)
    assert "Who voted" not in [a.get("title") for a in creators_view["actions"]], "not even for the creator"
    assert cards.my_votes(await bot.view(chat, ALEX, card_id)) == ["Sushi"]
    assert cards.my_votes(await bot.view(chat, PAT, card_id)) == ["Sushi"]
    assert cards.my_votes(creators_view) == []
    stored_votes = bot.rows("SELECT user_id, user_name FROM votes")
    assert len(stored_votes) == 2 and not {ALEX.id, PAT.id, ALEX.name, PAT.name} & set(sum(stored_votes, ()))

    await bot.press(chat, PAT, card_id, vote["Sushi"])  # and takes hers back
    assert cards.my_votes(await bot.view(chat, PAT, card_id)) == []
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(1,)]


async def test_hidden_shows_the_tallies_to_the_creator_alone_until_the_poll_closes(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll --hidden {LUNCH}")
    vote = cards.vote_buttons(shared(bot, chat, card_id))
    for person, option in ((ALEX, "Pizza"), (PAT, "Sushi"), (teams.Person("29:1third", "Third"), "Sushi")):
        await bot.press(chat, person, card_id, vote[option])

    card = shared(bot, chat, card_id)
    assert cards.option_counts(card) == {} and cards.options(card) == ["Pizza", "Sushi", "Tacos"]
    assert "3 people voted · results show when the poll closes" in cards.texts(card)
    assert "▬" not in str(card["body"]), "no bars"
    assert [a.get("title") for a in card["actions"]] == [], "no Who voted: it would count the votes"
    alex = await bot.view(chat, ALEX, card_id)
    assert cards.my_votes(alex) == ["Pizza"] and cards.option_counts(alex) == {}, "his vote, no tallies"
    creator = await bot.view(chat, MEGAN, card_id)
    assert cards.option_counts(creator)["Sushi"] == "2 votes · 67%"
    assert "3 people voted · only you see the results until the poll closes" in cards.texts(creator)

    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Close poll"))
    closed = shared(bot, chat, card_id)
    assert cards.option_counts(closed)["Sushi"] == "2 votes · 67%"
    assert "Sushi won with 2 of 3 votes" in cards.texts(closed)
    assert bot.connector.texts(chat.id) == [CLOSED + "Sushi won with 2 of 3 votes"]


async def test_closes_after_a_duration_shows_the_time_and_the_timer_closes_it_once(bot):
    chat = teams.channel_thread()
    before = datetime.now(timezone.utc)
    card_id = await post_poll(bot, chat, f"poll --closes=2h {LUNCH}")
    after = datetime.now(timezone.utc)
    (closes_at,), = bot.rows("SELECT closes_at FROM polls")
    assert before + timedelta(hours=2) <= stored(closes_at) <= after + timedelta(hours=2)
    stamp = stored(closes_at).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    closing = f"⏰ Closes {{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"
    assert closing in cards.texts(shared(bot, chat, card_id)), \
        "each reader sees it in their own time zone"
    await bot.press(chat, ALEX, card_id, cards.vote_buttons(shared(bot, chat, card_id))["Tacos"])
    timers = bot.server.app[TIMERS]
    # The timer wakes when the poll closes if that comes before its next regular tick (30 s).
    assert await timers.pause(stored(closes_at) - timedelta(hours=1)) == 30
    assert await timers.pause(stored(closes_at) - timedelta(seconds=12.5)) == 12.5

    await timers.tick(stored(closes_at) - timedelta(seconds=1))
    assert bot.rows("SELECT status FROM polls") == [("open",)]
    await timers.tick(stored(closes_at))
    await timers.tick(stored(closes_at) + timedelta(minutes=1))
    await bot.settle()

    assert bot.rows("SELECT status, closed_reason FROM polls") == [("closed", "deadline")]
    assert await timers.pause(stored(closes_at)) == 30, "no poll left to close"
    card = shared(bot, chat, card_id)
    assert cards.buttons(card) == {} and "Tacos won with 1 of 1 vote" in cards.texts(card)
    assert "It closed at its closing time. Its creator can reopen it." in cards.texts(card)
    assert bot.connector.texts(chat.id) == [CLOSED + "Tacos won with 1 of 1 vote"], \
        "said once, in the poll's thread"


@only_typed
async def test_closes_at_a_date_and_time_in_the_creators_time_zone(bot):
    chat = teams.group_chat()
    local = (datetime.now(ZoneInfo(SEED_ZONE)) + timedelta(days=3)).replace(hour=17, minute=30, second=0,
                                                                             microsecond=0)
    await post_poll(bot, chat, f"poll --closes={local:%Y-%m-%dT%H:%M} {LUNCH}")
    (closes_at,), = bot.rows("SELECT closes_at FROM polls")
    assert stored(closes_at) == local


@only_typed
async def test_without_clientinfo_the_zone_comes_from_local_timezone_or_the_local_timestamp(bot):
    chat = teams.group_chat()
    local = (datetime.now(timezone.utc) + timedelta(days=3)).replace(hour=17, minute=30, second=0, microsecond=0)
    for fields, zone in (({"localTimezone": "Asia/Kolkata"}, ZoneInfo("Asia/Kolkata")),
                         ({"localTimestamp": "2026-11-21T18:40:07.437+05:45"},
                          timezone(timedelta(hours=5, minutes=45))),
                         ({}, timezone.utc)):
        activity = teams.message(chat, MEGAN, f"poll --closes={local:%Y-%m-%dT%H:%M} {LUNCH}", bot.connector.url)
        activity["entities"] = [e for e in activity["entities"] if e["type"] != "clientInfo"]
        for key in ("localTimezone", "localTimestamp"):
            activity.pop(key, None)
        assert await bot.post({**activity, **fields}) == 200
        await bot.settle()
        (closes_at,), = bot.rows("SELECT closes_at FROM polls ORDER BY id DESC LIMIT 1")
        assert stored(closes_at) == local.replace(tzinfo=zone), fields


async def test_add_options_lets_anyone_add_an_option_on_the_card(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll --add-options {LUNCH}")
    add = cards.buttons(shared(bot, chat, card_id))["Add option"]  # on the shared card: anyone may

    await bot.press(chat, PAT, card_id, add, {"new_option": "  Ramen "})
    assert cards.options(shared(bot, chat, card_id)) == ["Pizza", "Sushi", "Tacos", "Ramen"]

    await bot.press(chat, ALEX, card_id, add, {"new_option": " ramen"})
    assert bot.refusal(ALEX) == 'I didn\'t add that option. "Ramen" is already an option.'
    for n in range(7):  # six fit
        await bot.press(chat, ALEX, card_id, add, {"new_option": f"Dish {n}"})
    assert bot.refusal(ALEX) == "I didn't add that option. This poll already has 10 options, the most a poll can have."
    card = shared(bot, chat, card_id)
    assert len(cards.options(card)) == 10 and "Add option" not in cards.buttons(card), "a full poll offers none"
    assert bot.connector.texts(chat.id) == [], "refusals go to the presser only"
    await bot.press(chat, PAT, card_id, cards.vote_buttons(card)["Ramen"])
    assert cards.option_counts(shared(bot, chat, card_id))["Ramen"] == "1 vote · 100%"


async def test_without_add_options_only_the_creator_adds_options(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat, f"poll {LUNCH}")
    assert "Add option" not in cards.buttons(shared(bot, chat, card_id))
    assert "Add option" not in cards.buttons(await bot.view(chat, ALEX, card_id))
    add = await bot.button(chat, MEGAN, card_id, "Add option")

    await bot.press(chat, ALEX, card_id, add, {"new_option": "Ramen"})
    assert bot.refusal(ALEX) == "Only Megan Bowen, who created this poll, can add options to it."
    await bot.press(chat, MEGAN, card_id, add, {"new_option": "Ramen"})
    assert bot.rows("SELECT label FROM poll_options ORDER BY position") == [
        ("Pizza",), ("Sushi",), ("Tacos",), ("Ramen",)]

    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Close poll"))
    await bot.press(chat, MEGAN, card_id, add, {"new_option": "Curry"})
    assert bot.refusal(MEGAN) == "This poll is closed, so no option was added."


async def test_an_option_added_to_an_anonymous_hidden_poll_keeps_it_anonymous_and_hidden(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll --anonymous --hidden --add-options {LUNCH}")
    await bot.press(chat, ALEX, card_id, cards.vote_buttons(shared(bot, chat, card_id))["Pizza"])
    add = cards.buttons(shared(bot, chat, card_id))["Add option"]  # on the shared card: anyone may
    await bot.press(chat, PAT, card_id, add, {"new_option": "Ramen"})
    await bot.press(chat, PAT, card_id, cards.vote_buttons(shared(bot, chat, card_id))["Ramen"])

    card = shared(bot, chat, card_id)
    assert cards.options(card) == ["Pizza", "Sushi", "Tacos", "Ramen"]
    for view in (card, await bot.view(chat, ALEX, card_id), await bot.view(chat, PAT, card_id)):
        assert cards.option_counts(view) == {}
        assert "2 people voted · results show when the poll closes" in cards.texts(view)
    assert cards.my_votes(await bot.view(chat, PAT, card_id)) == ["Ramen"]
    assert cards.option_counts(await bot.view(chat, MEGAN, card_id))["Ramen"] == "1 vote · 50%", "the creator's view"
    assert card["refresh"]["userIds"] == [MEGAN.id]
    stored = [bot.rows(f"SELECT * FROM {table}") for table in ("polls", "poll_options", "votes")]
    for person in (ALEX, PAT):
        assert person.id not in str(stored) + str(card) and person.name not in str(stored) + str(card)


async def test_an_option_on_several_lines_or_fewer_options_than_may_be_chosen_are_refused(bot):
    chat = teams.channel_thread()
    card_id = await post_poll(bot, chat, f"poll --max=3 --add-options {LUNCH}")
    add = cards.buttons(shared(bot, chat, card_id))["Add option"]

    await bot.press(chat, ALEX, card_id, add, {"new_option": "Ramen\nCurry"})  # a crafted press: the input is one line
    assert bot.refusal(ALEX) == ("I didn't add that option. "
                                 "Write the option on one line, without tabs or other control characters.")
    save = await bot.button(chat, MEGAN, card_id, "Save changes")
    await bot.press(chat, MEGAN, card_id, save, {"question": "Lunch on Friday?", "options": "Pizza\nSushi"})
    assert bot.refusal(MEGAN) == ("I kept the poll as it was. Each person may choose up to 3 options in this poll, "
                                  "so keep at least 3 options.")
    assert bot.rows("SELECT label FROM poll_options ORDER BY position") == [("Pizza",), ("Sushi",), ("Tacos",)]
    assert bot.connector.texts(chat.id) == [], "refusals go to the presser only"


CLOSES_FORMAT = "--closes needs a duration like 30m, 2h or 3d, or a date and time like --closes=2026-12-01T17:00"


@only_typed
@pytest.mark.parametrize("flags,says", [
    ("--max=0", "--max needs a whole number from 1 to 10, like --max=2 (not '0')."),
    ("--max=11", "--max needs a whole number from 1 to 10, like --max=2 (not '11')."),
    ("--max", "--max needs a value, like --max=2."),
    ("--max=2 --max=3", "Give --max once."),
    ("--closes", "--closes needs a value, like --closes=2h."),
    ("--closes=366d", "--closes=366d is more than a year away: give a closing time within a year."),
    ("--closes=59s", f"{CLOSES_FORMAT} (not '59s')."),
    ("--closes=2026-12-01T17:00:00", f"{CLOSES_FORMAT} (not '2026-12-01T17:00:00')."),
    ("--closes=2026-12-01 17:00", f"{CLOSES_FORMAT} (not '2026-12-01')."),
    ("--max=4", "Up to 4 choices is more than the 3 options: allow at most 3."),
    ("--multi --max=2", "Use --multi (any number of choices) or --max=N (up to N), not both."),
    ("--multi=yes", "--multi takes no value: write just --multi."),
    ("--anonymous=yes", "--anonymous takes no value: write just --anonymous."),
    ("--hidden --hidden", "Give --hidden once."),
    ("--closes=0m", "--closes=0m is less than a minute away: give a closing time at least a minute from now."),
    ("--closes=soon", "--closes needs a duration like 30m, 2h or 3d"),
    ("--closes=2020-01-01T10:00", "--closes=2020-01-01T10:00 is in the past (read in America/Los_Angeles)"),
    ("--closes=2026-02-30T10:00", "--closes=2026-02-30T10:00 is no real date and time."),
    ("--add-options=all", "--add-options takes no value: write just --add-options."),
    ("--secret", "I don't know --secret. The flags are --multi, --max=N"),
])
async def test_a_bad_flag_creates_nothing_and_says_what_to_fix(bot, flags, says):
    assert says in await refused_with(bot, teams.group_chat(), f"poll {flags} {LUNCH}")


@only_typed
async def test_help_lists_the_flags(bot):
    chat = teams.personal_chat()
    await bot.say(chat, MEGAN, "help")
    lines = bot.connector.texts(chat.id)[-1].splitlines()
    assert "Poll options go right after poll, before the question:" in lines
    for line in ("• --multi — any number of choices",
                 "• --max=N — up to N choices (--max=1 is one choice, the default)",
                 "• --anonymous — nobody, you included, can see who voted for what",
                 "• --hidden — results hidden until the poll closes (you see them in your own view)",
                 "• --closes=2h — closes after 30m, 2h or 3d (a minute at least), or at a date and time like "
                 "--closes=2026-12-01T17:00 in your time zone as Teams reports it (UTC if it doesn't); within a year",
                 "• --add-options — anyone may add options (you always may)"):
        assert line in lines


# Closing times -------------------------------------------------------------------------

async def test_a_vote_after_the_closing_time_is_refused_before_the_timer_comes(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll --closes=5m {LUNCH}")
    past = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat(timespec="milliseconds")
    bot.db.execute("UPDATE polls SET closes_at = ?", past)  # the five minutes have passed

    await bot.press(chat, ALEX, card_id, cards.vote_buttons(shared(bot, chat, card_id))["Pizza"])

    assert bot.refusal(ALEX) == "This poll closed at its closing time, so your vote was not recorded."
    assert bot.rows("SELECT COUNT(*) FROM votes") == [(0,)]


async def test_no_option_is_added_and_no_edit_made_after_the_closing_time_before_the_timer_comes(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll --closes=5m --add-options {LUNCH}")
    add = cards.buttons(shared(bot, chat, card_id))["Add option"]
    save = await bot.button(chat, MEGAN, card_id, "Save changes")
    past = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat(timespec="milliseconds")
    bot.db.execute("UPDATE polls SET closes_at = ?", past)  # the five minutes have passed

    await bot.press(chat, ALEX, card_id, add, {"new_option": "Ramen"})
    assert bot.refusal(ALEX) == "This poll closed at its closing time, so no option was added."
    await bot.press(chat, MEGAN, card_id, save, {"question": "Dinner?", "options": "Soup\nSalad"})
    assert bot.refusal(MEGAN) == "This poll closed at its closing time, so I kept it as it was."
    assert bot.rows("SELECT question FROM polls") == [("Lunch on Friday?",)]
    assert bot.rows("SELECT label FROM poll_options ORDER BY position") == [("Pizza",), ("Sushi",), ("Tacos",)]
    assert bot.connector.texts(chat.id) == [], "refusals go to the presser only"


async def test_a_closing_time_missed_while_the_bot_was_down_closes_the_poll_at_startup(make_bot):
    first = await make_bot()
    chat = teams.channel_thread()
    card_id = await post_poll(first, chat, f"poll --closes=1m {LUNCH}")
    await first.press(chat, ALEX, card_id, cards.vote_buttons(shared(first, chat, card_id))["Sushi"])
    await first.press(chat, PAT, card_id, cards.vote_buttons(shared(first, chat, card_id))["Pizza"])
    await first.server.close()

    again = await make_bot(db=first.db, clock=lambda: time.time() + 61)  # down past its closing time
    await again.settle()

    assert again.rows("SELECT status, closed_reason FROM polls") == [("closed", "deadline")]
    assert again.connector.texts(chat.id) == [CLOSED + "Tie: Pizza and Sushi, with 1 vote each"]
    assert cards.buttons(shared(again, chat, card_id)) == {}


async def test_the_timer_never_sleeps_past_the_shortest_closing_time(make_bot):
    """A poll made while the timer sleeps, here or on another instance, still closes on time."""
    bot = await make_bot(TIMER_SECONDS=600)
    timers = bot.server.app[TIMERS]
    now = datetime.now(timezone.utc)
    assert await timers.pause(now) == 60, "no poll yet"
    await post_poll(bot, teams.group_chat(), f"poll --closes=2h {LUNCH}")
    assert await timers.pause(now) == 60


@only_typed
async def test_two_timers_at_once_close_a_poll_once(make_bot):
    first = await make_bot()
    second = await make_bot(db=first.db)  # another instance on the same database
    chat = teams.group_chat()
    await post_poll(first, chat, f"poll --closes=30m {LUNCH}")
    (closes_at,), = first.rows("SELECT closes_at FROM polls")
    later = stored(closes_at) + timedelta(seconds=1)

    await asyncio.gather(*(bot.server.app[TIMERS].tick(later) for bot in (first, second, first, second)))
    await first.settle()
    await second.settle()

    assert first.rows("SELECT status FROM polls") == [("closed",)]
    assert first.connector.texts(chat.id) == [CLOSED + "Final result: no votes were cast."]


async def test_the_creators_close_says_the_result_and_a_reopen_after_the_closing_time_stays_open(bot):
    chat = teams.group_chat()
    card_id = await post_poll(bot, chat, f"poll --closes=10m {LUNCH}")
    await bot.press(chat, ALEX, card_id, cards.vote_buttons(shared(bot, chat, card_id))["Pizza"])
    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Close poll"))
    assert bot.connector.texts(chat.id) == [CLOSED + "Pizza won with 1 of 1 vote"]
    (closes_at,), = bot.rows("SELECT closes_at FROM polls")

    await bot.server.app[TIMERS].tick(stored(closes_at) + timedelta(minutes=1))  # closed already: nothing said
    bot.db.execute("UPDATE polls SET closes_at = '2020-01-01T00:00:00.000+00:00'")  # its time has passed
    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Reopen poll"))
    await bot.server.app[TIMERS].tick(datetime.now(timezone.utc))

    assert bot.rows("SELECT status, closes_at FROM polls") == [("open", None)], "open until its creator closes it"
    assert len(bot.connector.texts(chat.id)) == 1
    assert not any(t.startswith("⏰") for t in cards.texts(shared(bot, chat, card_id)))


# The creation form ---------------------------------------------------------------------

async def test_the_form_offers_every_option_and_posts_the_poll_with_them(bot):
    chat = teams.channel_thread()
    await bot.say(chat, MEGAN, "poll")
    form_id = bot.connector.calls_of("POST")[-1].activity_id
    form = shared(bot, chat, form_id)
    ids = [i["id"] for i in form["body"] if i["type"].startswith("Input.")]
    assert ids == ["question", "options", "choice_mode", "max_choices", "anonymous", "hidden", "add_options",
                   "closes_date", "closes_time"], "the ids are kept stable for tools that fill the form"
    day = (datetime.now(ZoneInfo(SEED_ZONE)) + timedelta(days=2)).date()

    await bot.press(chat, MEGAN, form_id, cards.buttons(form)["Post poll"], {
        "question": "Offsite venue?", "options": "Lake\nCity\nMountain", "choice_mode": "multiple",
        "max_choices": "2", "anonymous": "true", "hidden": "true", "add_options": "true",
        "closes_date": day.isoformat(), "closes_time": "16:00"})

    assert "✅ Poll posted" in cards.texts(shared(bot, chat, form_id))
    row = bot.rows("SELECT multiple_choice, max_choices, anonymous, hidden, anyone_adds, closes_at FROM polls")
    expected = datetime.combine(day, datetime.min.time().replace(hour=16), ZoneInfo(SEED_ZONE))
    assert row[0][:5] == (1, 2, 1, 1, 1) and stored(row[0][5]) == expected
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    card = shared(bot, chat, card_id)
    assert "📊 POLL · CHOOSE UP TO 2 · ANONYMOUS · RESULTS HIDDEN" in cards.texts(card)
    assert "Add option" in cards.buttons(card) and any(t.startswith("⏰ Closes") for t in cards.texts(card))


async def test_the_form_says_what_to_fix_and_posts_nothing(bot):
    chat = teams.group_chat()
    await bot.say(chat, MEGAN, "poll")
    form_id = bot.connector.calls_of("POST")[-1].activity_id
    typed = {"question": "Offsite?", "options": "Lake\nCity", "choice_mode": "single", "max_choices": "0",
             "anonymous": "false", "hidden": "true", "add_options": "false", "closes_date": "2020-01-01",
             "closes_time": "09:00"}

    await bot.press(chat, MEGAN, form_id, cards.buttons(shared(bot, chat, form_id))["Post poll"], typed)

    form = shared(bot, chat, form_id)
    assert any(re.search(r"The closing time is in the past \(read in America/Los_Angeles\)", t)
               for t in cards.texts(form))
    assert {i["id"]: i.get("value") for i in form["body"] if i["type"].startswith("Input.")} == typed
    assert bot.rows("SELECT COUNT(*) FROM polls") == [(0,)]


@only_typed
async def test_a_german_creator_reads_the_flags_problems_the_card_and_the_result_in_german(bot):
    hanna = teams.Person("29:1hanna-schmidt-teams-id", "Hanna Schmidt", "a1b2c3d4-0000-4000-8000-000000000011", "de-DE")
    chat = teams.group_chat()
    await bot.say(chat, hanna, "poll --max=0 Mittagessen? | Pizza | Sushi")
    assert bot.connector.texts(chat.id)[-1].startswith(
        "Ich konnte die Umfrage nicht erstellen. --max braucht eine ganze Zahl von 1 bis 10")

    card_id = await post_poll(bot, chat, "poll --hidden --closes=1h Mittagessen? | Pizza | Sushi", user=hanna)
    texts = cards.texts(shared(bot, chat, card_id))
    assert "📊 UMFRAGE · EINE AUSWAHL · ERGEBNISSE VERBORGEN" in texts
    assert any(text.startswith("⏰ Endet am {{DATE(") for text in texts)
    (closes_at,), = bot.rows("SELECT closes_at FROM polls")
    await bot.server.app[TIMERS].tick(stored(closes_at))  # outside any turn: in the card's language
    await bot.settle()
    assert bot.connector.texts(chat.id)[-1] == ("📊 Die Umfrage „Mittagessen?“ ist beendet. "
                                                "Endergebnis: Es wurden keine Stimmen abgegeben.")
