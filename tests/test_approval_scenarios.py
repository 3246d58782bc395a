"""Approvals end to end through the real app: every card copy users see, and what is stored."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from zoneinfo import ZoneInfo

from poll_bot.app import TIMERS
from tests.conftest import stop_bot
from tests.support import cards, teams
from tests.support.fake_connector import shown_text
from tests.support.teams import ALEX, LEE, MEGAN, PAT

SHORTCUT = "approval New laptops | Three 14-inch laptops <at>Alex Wilber</at> <at>Patti Fernandez</at>"


@pytest.fixture(params=["submit", "invoke"])
def press_path(request):
    """Every scenario here runs with Action.Submit presses and with Action.Execute invokes."""
    return request.param


async def shortcut(bot, chat, text=SHORTCUT, mentioning=(ALEX, PAT)):
    status = await bot.post(teams.message(chat, MEGAN, text, bot.connector.url, mentioning))
    assert status in (200, 201)
    await bot.settle()
    return request_card_id(bot, chat)


def request_card_id(bot, chat):
    (activity_id,) = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval' AND conversation_id = ?"
                             " ORDER BY id", chat.id)[0]
    return activity_id


def card(bot, conversation_id, activity_id):
    return bot.connector.card(conversation_id, activity_id)


def copies(bot):
    """Every approver's 1:1 copy: {personal conversation id: activity id}."""
    rows = bot.rows("""SELECT k.conversation_id, k.activity_id FROM cards k JOIN approval_copies c ON c.card_id = k.id""")
    return dict(rows)


def every_card(bot, chat):
    return [card(bot, chat.id, request_card_id(bot, chat))] + [card(bot, c, a) for c, a in copies(bot).items()]


def chat_of(person):
    return teams.personal_chat(person)


def submit_data(the_card, title):
    """The data of a button, also inside the Approve / Reject / Reassign show-cards."""
    return cards.buttons(the_card)[title]


async def press(bot, chat, person, activity_id, title, inputs=None):
    the_card = card(bot, chat.id, activity_id)
    await bot.press(chat, person, activity_id, submit_data(the_card, title), inputs or {})


async def fill_form(bot, chat, inputs):
    await bot.say(chat, MEGAN, "approval")
    form_id = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval_form' ORDER BY id")[-1][0]
    form = card(bot, chat.id, form_id)
    await bot.press(chat, MEGAN, form_id, cards.buttons(form)["Send request"], inputs)
    return form_id


def status_line(the_card):
    return cards.texts(the_card)[0]


async def test_text_shortcut_posts_the_request_and_a_copy_with_quick_replies_to_each_approver(make_bot, group):
    bot = await make_bot()
    card_id = await shortcut(bot, group)

    request = card(bot, group.id, card_id)
    assert status_line(request) == "⏳ APPROVAL · PENDING"
    assert "New laptops" in cards.texts(request) and "Three 14-inch laptops" in cards.texts(request)
    titles = lambda card: [a["title"] for a in card["actions"]]  # noqa: E731
    assert titles(request) == ["Approve", "Reject"], "the shared card: what any approver may press"
    assert cards.fallbacks_match(request)
    assert titles(await bot.view(group, ALEX, card_id)) == ["Approve", "Reject", "Reassign"]
    assert titles(await bot.view(group, MEGAN, card_id)) == ["Cancel request"]
    lee = await bot.view(group, LEE, card_id)
    assert titles(lee) == [] and "⏳ Their turn" in cards.texts(lee), "others see the state, with no buttons"
    assert bot.rows("SELECT title, details, policy, status FROM approvals") == [
        ("New laptops", "Three 14-inch laptops", "all", "pending")]
    assert bot.rows("SELECT user_id FROM approval_approvers ORDER BY position") == [(ALEX.id,), (PAT.id,)]
    assert bot.rows("SELECT event FROM approval_events") == [("created",)]

    assert [body["members"][0]["id"] for body in bot.connector.opened_chats] == [ALEX.id, PAT.id]
    for person in (ALEX, PAT):
        messages = bot.connector.messages(chat_of(person).id)
        assert [bool(m.get("attachments")) for m in messages] == [True, False], "a card, then a separate text"
        assert status_line(messages[0]["attachments"][0]["content"]) == "⏳ APPROVAL · PENDING"
        assert [a["value"] for a in messages[1]["suggestedActions"]["actions"]] == ["Approve #1", "Reject #1",
                                                                                     "Details #1"]
        assert shown_text(messages[1]) == "Megan Bowen asks for your approval: New laptops"


async def test_first_response_decides_and_every_copy_and_the_requester_learn_it(make_bot, group):
    bot = await make_bot()
    await fill_form(bot, group, {"title": "Pizza budget", "details": "For Friday", "approvers": f"{ALEX.id},{PAT.id}",
                                 "policy": "first", "quorum": "1"})
    card_id = request_card_id(bot, group)

    await press(bot, group, PAT, card_id, "Confirm approval", {"comment": "Enjoy!"})

    assert bot.rows("SELECT status FROM approvals") == [("approved",)]
    for shown in every_card(bot, group):
        assert status_line(shown) == "✅ APPROVAL · APPROVED"
        assert shown["actions"] == [], "no buttons once final"
        assert "Patti Fernandez approved: Enjoy!" in cards.texts(shown), "history in the body"
        assert re.fullmatch(r"✅ Approved · \{\{DATE\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, SHORT\)\}\} "
                            r"\{\{TIME\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\}\}",
                            next(t for t in cards.texts(shown) if t.startswith("✅ Approved · "))), "each reader's own time zone"
        assert "Enjoy!" in cards.texts(shown)
        assert any(t.startswith("✅ Approved · ") for t in cards.texts(shown))
    (requester_chat,) = bot.rows("SELECT conversation_id FROM personal_chats WHERE user_id = ?", MEGAN.id)[0]
    (told,) = bot.connector.messages(requester_chat)
    assert shown_text(told) == "Your request “Pizza budget” was approved."
    assert told["channelData"]["notification"]["alert"] is True and told["summary"]


async def test_everyone_must_approve_and_any_reject_ends_it(make_bot, group):
    bot = await make_bot()
    card_id = await shortcut(bot, group)

    await press(bot, group, ALEX, card_id, "Confirm approval")
    assert bot.rows("SELECT status FROM approvals") == [("pending",)]
    await press(bot, group, PAT, card_id, "Confirm rejection", {"reason": ""})
    assert bot.refusal(PAT) == "Give a reason when you reject."
    assert bot.rows("SELECT status FROM approvals") == [("pending",)]

    await press(bot, group, PAT, card_id, "Confirm rejection", {"reason": "Over budget"})
    assert bot.rows("SELECT status FROM approvals") == [("rejected",)]
    final = card(bot, group.id, card_id)
    assert status_line(final) == "❌ APPROVAL · REJECTED" and "Over budget" in cards.texts(final)
    assert bot.rows("SELECT user_id, decision, comment FROM approval_approvers ORDER BY position") == [
        (ALEX.id, "approved", ""), (PAT.id, "rejected", "Over budget")]


async def test_form_lists_members_and_m_of_n_needs_m_approvals(make_bot, group):
    bot = await make_bot()
    await bot.say(group, MEGAN, "approval")
    form_id = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval_form' ORDER BY id")[0][0]
    form = card(bot, group.id, form_id)
    picker = next(i for i in form["body"] if i.get("id") == "approvers")
    assert [c["title"] for c in picker["choices"]] == ["Alex Wilber", "Lee Gu", "Patti Fernandez"]

    inputs = {"title": "Offsite", "details": "Lisbon", "approvers": f"{ALEX.id},{PAT.id},{LEE.id}",
              "policy": "quorum", "quorum": "2", "due_date": "", "due_time": ""}
    await bot.press(group, MEGAN, form_id, cards.buttons(form)["Send request"], inputs)
    assert cards.texts(card(bot, group.id, form_id)) == ["✅ Request sent", "Offsite"]
    card_id = request_card_id(bot, group)
    assert "2 of 3 must approve" in cards.texts(card(bot, group.id, card_id))

    await press(bot, group, ALEX, card_id, "Confirm approval")
    assert bot.rows("SELECT status FROM approvals") == [("pending",)]
    await press(bot, group, LEE, card_id, "Confirm approval")
    assert bot.rows("SELECT status FROM approvals") == [("approved",)]


async def test_the_member_picker_reads_every_page_of_the_roster(make_bot, group, connector):
    connector.page_limit = 2
    bot = await make_bot()
    await bot.say(group, MEGAN, "approval")
    form = card(bot, group.id, bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval_form' ORDER BY id")[0][0])
    picker = next(i for i in form["body"] if i.get("id") == "approvers")
    assert [c["title"] for c in picker["choices"]] == ["Alex Wilber", "Lee Gu", "Patti Fernandez"]
    pages = [c for c in connector.calls if c.method == "GET"]
    assert len(pages) == 2 and all(c.status == 200 for c in pages)


async def test_a_small_chat_offers_its_own_members_and_a_1_1_chat_offers_colleagues(make_bot, group, connector):
    pair = teams.Chat({**group.conversation, "id": "19:meeting_pair-chat@thread.v2"}, group.channel_data, True)
    connector.rosters[pair.id] = [p.account() for p in (MEGAN, ALEX)]
    bot = await make_bot()
    for chat in (group, pair, chat_of(MEGAN)):
        await bot.say(chat, MEGAN, "approval")

    def picker(chat):
        form_id = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval_form' AND conversation_id = ?",
                           chat.id)[0][0]
        inputs = card(bot, chat.id, form_id)["body"]
        return [c["title"] for c in next(i for i in inputs if i.get("id") == "approvers")["choices"]]

    assert picker(pair) == ["Alex Wilber"], "people from other chats don't belong in this one"
    assert picker(chat_of(MEGAN)) == ["Alex Wilber", "Lee Gu", "Patti Fernandez"]


async def test_form_problems_are_shown_on_the_form(make_bot, group):
    bot = await make_bot()
    form_id = await fill_form(bot, group, {"title": "Offsite", "approvers": MEGAN.id, "policy": "all", "quorum": "1"})
    form = card(bot, group.id, form_id)
    assert any("Pick approvers from the list." in t for t in cards.texts(form))
    assert bot.rows("SELECT COUNT(*) FROM approvals") == [(0,)]


async def test_in_sequence_only_the_current_approver_decides_and_the_next_is_asked_after(make_bot, group):
    bot = await make_bot()
    inputs = {"title": "Contract", "approvers": f"{PAT.id},{ALEX.id}", "policy": "sequence", "quorum": "1"}
    await fill_form(bot, group, inputs)
    card_id = request_card_id(bot, group)
    assert [b["members"][0]["id"] for b in bot.connector.opened_chats] == [PAT.id], "only the first is asked"

    await press(bot, group, ALEX, card_id, "Confirm approval")
    assert bot.refusal(ALEX) == "It's Patti Fernandez's turn first; you'll be asked when it's yours."
    await press(bot, group, PAT, card_id, "Confirm approval")
    assert [b["members"][0]["id"] for b in bot.connector.opened_chats] == [PAT.id, ALEX.id]
    assert bot.rows("SELECT status FROM approvals") == [("pending",)]
    await press(bot, group, ALEX, card_id, "Confirm approval")
    assert bot.rows("SELECT status FROM approvals") == [("approved",)]


async def test_only_approvers_decide_and_not_the_requester(make_bot, group):
    bot = await make_bot()
    text = "approval Expenses | <at>Alex Wilber</at> <at>Megan Bowen</at>"
    await bot.post(teams.message(group, MEGAN, text, bot.connector.url, (ALEX, MEGAN)))
    await bot.settle()
    assert "You can't approve your own request" in bot.connector.texts(group.id)[-1]

    card_id = await shortcut(bot, group)
    await press(bot, group, LEE, card_id, "Confirm approval")
    assert bot.refusal(LEE) == "Only the listed approvers can decide on this request."
    await press(bot, group, MEGAN, card_id, "Confirm approval")
    assert bot.refusal(MEGAN) == "You can't decide on your own request."
    assert bot.rows("SELECT COUNT(*) FROM approval_approvers WHERE decision IS NOT NULL") == [(0,)]


async def test_requester_cancels_and_then_nothing_changes(make_bot, group):
    bot = await make_bot()
    card_id = await shortcut(bot, group)
    cancel = await bot.button(group, MEGAN, card_id, "Yes, cancel it")
    await bot.press(group, ALEX, card_id, cancel)
    assert bot.refusal(ALEX) == "Only the requester can cancel this request."
    assert bot.connector.texts(group.id) == [], "refusals are never posted into the conversation"

    stale = card(bot, group.id, card_id)
    await bot.press(group, MEGAN, card_id, cancel)
    assert bot.rows("SELECT status FROM approvals") == [("cancelled",)]
    assert all(status_line(c) == "🚫 APPROVAL · CANCELLED" for c in every_card(bot, group))
    shown = cards.texts(card(bot, group.id, card_id))
    assert [shown[shown.index(name) + 1] for name in (ALEX.name, PAT.name)] == ["🚫 Cancelled"] * 2

    await bot.press(group, ALEX, card_id, submit_data(stale, "Confirm approval"), {})
    assert bot.refusal(ALEX) == "This request is already cancelled, so nothing was changed."
    assert bot.rows("SELECT event FROM approval_events ORDER BY id") == [("created",), ("cancelled",)]


async def test_an_approver_hands_their_turn_to_another_member(make_bot, group):
    bot = await make_bot()
    card_id = await shortcut(bot, group)
    alex_view = await bot.view(group, ALEX, card_id)
    reassign = next(a for a in alex_view["actions"] if a["title"] == "Reassign")["card"]["body"][0]
    assert [c["title"] for c in reassign["choices"]] == ["Lee Gu"]

    await bot.press(group, ALEX, card_id, cards.buttons(alex_view)["Hand over my turn"], {"reassign_to": LEE.id})

    assert bot.rows("SELECT user_id FROM approval_approvers ORDER BY position") == [(LEE.id,), (PAT.id,)]
    assert bot.connector.opened_chats[-1]["members"][0]["id"] == LEE.id
    assert "Lee Gu" in cards.texts(card(bot, group.id, card_id))
    assert any("Alex Wilber handed their turn to Lee Gu" in t for t in cards.texts(card(bot, group.id, card_id)))


async def test_a_double_press_and_a_redelivery_count_once(make_bot, group):
    bot = await make_bot(DOUBLE_PRESS_SECONDS=1.5)
    card_id = await shortcut(bot, group)
    data = submit_data(card(bot, group.id, card_id), "Confirm approval")
    press_once = teams.submit(group, ALEX, data, card_id, bot.connector.url)
    for activity in (press_once, press_once, teams.submit(group, ALEX, data, card_id, bot.connector.url)):
        await bot.post(activity)
    await bot.settle()
    assert bot.rows("SELECT COUNT(*) FROM approval_events WHERE event = 'decided'") == [(1,)]
    assert "You already approved" not in " ".join(bot.connector.texts(group.id))


async def test_the_audit_is_append_only(make_bot, group):
    bot = await make_bot()
    await shortcut(bot, group)
    for sql in ("UPDATE approval_events SET event = 'cancelled'", "DELETE FROM approval_events"):
        with pytest.raises(bot.db.integrity_error, match="append-only"):
            bot.db.execute(sql)
    assert bot.rows("SELECT event FROM approval_events") == [("created",)]


async def test_typed_quick_replies_in_the_personal_chat(make_bot, group):
    bot = await make_bot()
    await shortcut(bot, group)
    alex = chat_of(ALEX)

    await bot.say(alex, ALEX, "details")
    assert bot.connector.texts(alex.id)[-1].startswith("#1 New laptops (requested by Megan Bowen)")
    await bot.say(alex, ALEX, "Reject")
    assert bot.connector.texts(alex.id)[-1] == "Add your reason, for example: reject #1 over budget"

    await shortcut(bot, group, "approval Monitors | <at>Alex Wilber</at>", (ALEX,))
    await bot.say(alex, ALEX, "approve")
    which = bot.connector.messages(alex.id)[-1]
    assert shown_text(which).startswith("Which request?")
    assert [a["value"] for a in which["suggestedActions"]["actions"]] == ["Approve #2", "Approve #1"]

    await bot.say(alex, ALEX, "Approve #2 fine by me")
    assert bot.connector.texts(alex.id)[-1] == "You approved #2 “Monitors”."
    await bot.say(alex, ALEX, "reject too pricey")
    assert bot.connector.texts(alex.id)[-1] == "You rejected #1 “New laptops”."
    assert bot.rows("SELECT approval_id, decision, comment FROM approval_approvers WHERE user_id = ? ORDER BY 1",
                    ALEX.id) == [(1, "rejected", "too pricey"), (2, "approved", "fine by me")]
    assert bot.rows("SELECT status FROM approvals ORDER BY id") == [("rejected",), ("approved",)]


async def test_a_quick_reply_under_a_request_acts_on_that_request_while_others_wait(make_bot, group):
    bot = await make_bot()
    await shortcut(bot, group)
    await shortcut(bot, group, "approval Monitors | <at>Alex Wilber</at>", (ALEX,))
    alex = chat_of(ALEX)
    prompts = [m for m in bot.connector.messages(alex.id) if m.get("suggestedActions")]
    first_request_replies = [a["value"] for a in prompts[0]["suggestedActions"]["actions"]]
    assert first_request_replies == ["Approve #1", "Reject #1", "Details #1"]
    assert "#1 · Requested by Megan Bowen" in cards.texts(card(bot, group.id, request_card_id(bot, group)))

    await bot.say(alex, ALEX, first_request_replies[0])
    assert bot.connector.texts(alex.id)[-1] == "You approved #1 “New laptops”.", "no “Which request?”"
    assert bot.rows("SELECT approval_id, decision FROM approval_approvers WHERE user_id = ? ORDER BY 1",
                    ALEX.id) == [(1, "approved"), (2, None)]


async def test_due_date_expires_the_request_and_is_caught_up_after_a_restart(make_bot, group):
    bot = await make_bot()
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    await fill_form(bot, group, {"title": "Budget", "approvers": ALEX.id, "policy": "all", "quorum": "1",
                                 "due_date": tomorrow, "due_time": "09:30"})
    (due_at,) = bot.rows("SELECT due_at FROM approvals")[0]
    zone = ZoneInfo(teams.seed("seed001_personal_message.json")["entities"][0]["timezone"])  # the sender's clock
    expected = datetime.fromisoformat(f"{tomorrow}T09:30").replace(tzinfo=zone).astimezone(timezone.utc)
    assert datetime.fromisoformat(due_at) == expected
    await bot.server.app[TIMERS].tick(datetime.now(timezone.utc) + timedelta(days=2))
    await bot.settle()
    assert bot.rows("SELECT status FROM approvals") == [("expired",)]
    assert status_line(card(bot, group.id, request_card_id(bot, group))) == "⌛ APPROVAL · EXPIRED"

    await fill_form(bot, group, {"title": "Travel", "approvers": PAT.id, "policy": "all", "quorum": "1",
                                 "due_date": tomorrow, "due_time": "09:30"})
    await stop_bot(bot)
    # the due date passes while the bot is down
    bot.db.execute("UPDATE approvals SET due_at = '2020-01-01T00:00:00.000+00:00' WHERE title = 'Travel'")
    bot = await make_bot(db=bot.db)
    await bot.settle()
    assert bot.rows("SELECT title, status FROM approvals ORDER BY id") == [("Budget", "expired"), ("Travel", "expired")]


async def test_unread_requests_get_one_reminder(make_bot, group):
    bot = await make_bot(APPROVAL_REMINDER_SECONDS=60)
    await shortcut(bot, group)
    pat_copy = copies(bot)[chat_of(PAT).id]
    receipt = teams.message(chat_of(PAT), PAT, "", bot.connector.url)
    receipt.update(type="event", name="application/vnd.microsoft.readReceipt", value={"lastReadMessageId": pat_copy})
    receipt.pop("text")
    await bot.post(receipt)

    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    for _ in range(2):
        await bot.server.app[TIMERS].tick(later)
        await bot.settle()

    reminders = [t for t in bot.connector.texts(chat_of(ALEX).id) if t.startswith("Reminder:")]
    assert reminders == ["Reminder: Megan Bowen is waiting for your decision on “New laptops”."]
    assert not [t for t in bot.connector.texts(chat_of(PAT).id) if t.startswith("Reminder:")], "Pat read it"
    assert bot.rows("SELECT COUNT(*) FROM approval_events WHERE event = 'reminded'") == [(1,)]


async def test_a_request_without_mentioned_approvers_points_to_the_form(make_bot, group):
    bot = await make_bot()
    await bot.say(group, MEGAN, "approval New laptops | for the new hires @Alex @Patti")  # typed, not mentions
    reply = bot.connector.texts(group.id)[-1]
    assert reply.startswith("I couldn't create that request. Pick 1 to 20 approvers (you picked 0).")
    assert "Type approval on its own for a form where you pick the approvers from a list" in reply
    assert bot.rows("SELECT COUNT(*) FROM approvals") == [(0,)]


async def test_a_due_day_without_a_time_ends_where_the_requester_is_and_texts_use_the_readers_zone(make_bot, group):
    bot = await make_bot()
    day = (datetime.now(timezone.utc) + timedelta(days=3)).date().isoformat()
    await fill_form(bot, group, {"title": "Budget", "approvers": ALEX.id, "policy": "all", "quorum": "1",
                                 "due_date": day})
    zone = ZoneInfo(teams.seed("seed001_personal_message.json")["entities"][0]["timezone"])  # the sender's clock
    end_of_day = datetime.fromisoformat(f"{day}T23:59:59").replace(tzinfo=zone)
    (due_at,), = bot.rows("SELECT due_at FROM approvals")
    assert datetime.fromisoformat(due_at) == end_of_day

    await bot.say(chat_of(ALEX), ALEX, "details")
    shown = f"{end_of_day:%b} {end_of_day.day}, 11:59\u202fPM {end_of_day:%Z}"  # the seed's locale is en-US
    assert f"Due {shown}." in bot.connector.texts(chat_of(ALEX).id)[-1].splitlines()
