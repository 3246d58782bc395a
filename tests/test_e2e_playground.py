"""End to end in Microsoft 365 Agents Playground, rendered by Teams' card renderer
in headless Debian chromium and driven by playwright-core (e2e/poll_flow.mjs)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from tests.support import cards
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "e2e"
PLAYGROUND = E2E / "node_modules" / ".bin" / "agentsplayground"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.e2e


def _missing() -> str | None:
    if not PLAYGROUND.exists():
        return "npm packages in e2e/ are not installed (make test installs them)"
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (make test installs it)"
    return None


@pytest.fixture(scope="module", autouse=True)
def needs_browser():
    reason = _missing()
    if reason and os.environ.get("CI"):
        pytest.fail(reason)  # in CI a missing browser is a broken build, not a skip
    if reason:
        pytest.skip(reason)


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture
def running(tmp_path, database):
    """The bot (python -m poll_bot) and Agents Playground pointed at it, on free ports."""
    bot_port, playground_port = free_port(), free_port()
    db = database
    logs = tmp_path / "logs"
    logs.mkdir()
    bot = subprocess.Popen(
        [sys.executable, "-m", "poll_bot"],
        env={**os.environ, "HOST": "127.0.0.1", "PORT": str(bot_port), **db.env(),
             "MicrosoftAppId": ""},
        stdout=open(logs / "bot.log", "w"), stderr=subprocess.STDOUT,
    )
    playground = subprocess.Popen(
        [str(PLAYGROUND), "-e", f"http://127.0.0.1:{bot_port}/api/messages", "-c", "msteams", "--dt",
         "-p", str(playground_port)],
        cwd=tmp_path, start_new_session=True,
        env={**os.environ, "TEAMSAPPTESTER_BROWSER": "none", "APPLICATION_INSIGHTS_NO_STATSBEAT": "true",
             "M365_AGENTS_PLAYGROUND_LOGFILE": str(logs / "playground.log"),
             "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(E2E / "m365agentsplayground.yml")},
        stdout=open(logs / "playground.out", "w"), stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(f"http://127.0.0.1:{bot_port}/healthz", bot)
        _wait_for(f"http://127.0.0.1:{playground_port}/_debug/ping", playground)
        # The Playground silently moves to a random port when its port is taken.
        assert f"Listening on {playground_port}" in (logs / "playground.out").read_text()
        assert "local development mode" in (logs / "bot.log").read_text()
        yield f"http://localhost:{playground_port}", db, f"http://127.0.0.1:{bot_port}/api/messages"
    finally:
        for process in (playground, bot):
            process.terminate()
        for process in (playground, bot):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def drive(script: str, url: str, bot_url: str, tmp_path: Path) -> dict:
    """Run one e2e/*.mjs flow; it prints one JSON line with what the page showed."""
    artifacts = Path(os.environ.get("E2E_ARTIFACTS", tmp_path / "artifacts"))
    run = subprocess.run(
        ["node", str(E2E / script)], cwd=E2E, capture_output=True, text=True, timeout=180,
        env={**os.environ, "PLAYGROUND_URL": url, "BOT_URL": bot_url, "OUT_DIR": str(artifacts),
             "CHROMIUM": CHROMIUM},
    )
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["ok"], f"{seen}\n{run.stderr}"
    return seen


def test_poll_in_personal_chat_votes_and_closes_on_the_same_card(running, tmp_path):
    url, db, bot_url = running
    seen = drive("poll_flow.mjs", url, bot_url, tmp_path)

    assert seen["buttonsAfterPost"] == ["Pizza", "Sushi", "Tacos", "➕ Add an option", "Close poll", "Export results",
                                        "Edit poll", "Delete poll"]
    assert seen["offeredAfterPost"] == ["Pizza", "Sushi", "Tacos"], "a 1:1 poll offers its options as quick replies"
    assert seen["sameElementAfterVote"], "the vote must update the card in place"
    assert "1 vote · 100%" in seen["cardTextAfterVote"]
    assert "◉ Pizza  ✓ Your vote" in seen["cardTextAfterVote"], "the voter's own view marks their choice"
    assert seen["cardsAfterVote"] == seen["cardsAfterPost"], "no second card may appear"
    assert seen["messagesAfterVote"] == seen["messagesAfterPost"], "no new message may appear"
    assert seen["buttonsAfterClose"] == ["Reopen poll", "Export results", "Delete poll", "Who voted"], \
        "vote buttons must be gone after closing"
    assert seen["cardsAfterClose"] == seen["cardsAfterPost"]

    assert db.rows("SELECT question, status FROM polls") == [("Lunch on Friday?", "closed")]
    assert db.rows("SELECT COUNT(*) FROM votes") == [(1,)]


def test_help_answer_in_personal_chat_offers_quick_replies_and_new_poll_opens_the_form(running, tmp_path):
    url, db, bot_url = running
    seen = drive("prompts_flow.mjs", url, bot_url, tmp_path)
    menu = ["New poll", "My open polls", "Pending approvals", "New approval", "Help"]

    assert seen["welcomes"] == 1, "one welcome, however many install events arrive"
    assert seen["welcomeText"].startswith("Hi, I'm Poll Bot")
    assert "\n• pending approvals — " in seen["welcomeText"], "each command on a line of its own"
    assert seen["welcomeActions"] == menu

    assert seen["answers"] == 1
    assert seen["answerText"] == "I didn't catch that. Pick one below, or type help to see everything I can do."
    assert seen["answerActions"][:3] == ["New poll", "My open polls", "Pending approvals"]
    assert seen["answerActions"] == menu, "the Playground shows every suggested action"

    assert seen["sentByNewPoll"].splitlines()[-1] == "New poll", "a tap sends the action's title"
    assert seen["actionsAfterNewPoll"] == [], "suggested actions are gone once one is tapped"
    assert seen["cardsAfterNewPoll"] == seen["cardsBeforeNewPoll"] + 1
    assert seen["messagesAfterNewPoll"] == seen["messagesBeforeNewPoll"] + 2, "the tap and the form, nothing else"
    assert "Question" in seen["formText"] and "Post poll" in seen["formText"]

    assert seen["pollActions"] == ["Pizza", "Sushi", "Tacos"]
    assert seen["sameElementAfterVote"], "a quick-reply vote must update the card in place"
    assert "1 person voted" in seen["cardTextAfterVote"]
    assert "◉ Pizza  ✓ Your vote\n\n1 vote · 100%" in seen["cardTextAfterVote"], "a 1:1 card is its person's view"
    assert seen["cardsAfterVote"] == seen["cardsBeforeVote"], "no second card may appear"
    assert seen["tapAfterVote"].splitlines()[-1] == "Pizza"
    assert seen["lastMessageAfterVote"].splitlines()[-1] == "Your vote: Pizza."
    assert seen["messagesAfterVote"] == seen["messagesBeforeVote"] + 2, "the tap and its one-line confirmation"
    assert seen["actionsAfterVote"] == []

    assert db.rows("SELECT question, status FROM polls") == [("Lunch on Friday?", "open")]
    votes = db.rows("SELECT o.label, v.user_id FROM votes v JOIN poll_options o USING (poll_id, position)")
    assert votes == [("Pizza", "user-id-0")]


def test_approval_in_group_chat_is_approved_on_the_card(running, tmp_path):
    url, db, bot_url = running
    seen = drive("approval_flow.mjs", url, bot_url, tmp_path)

    assert seen["sameElement"], "the decision must update the card in place"
    assert seen["buttonsAfter"] == 0, "a final card has no buttons"
    assert "Alex Wilber" in seen["textAfter"] and "Approved" in seen["textAfter"]
    assert seen["cardsAfter"] == seen["cardsBefore"], "no second card may appear"
    assert db.rows("SELECT title, status FROM approvals") == [("New laptops", "approved")]
    assert db.rows("SELECT user_id, decision FROM approval_approvers") == [("user-id-0", "approved")]
    members = {row[0] for row in db.rows("SELECT user_id FROM conversation_members")}
    assert "user-id-1" in members, "the roster was read from the Playground's connector"


def test_a_hidden_poll_with_a_closing_time_made_in_the_form_shows_tallies_only_to_its_creator(running, tmp_path):
    url, db, bot_url = running
    seen = drive("hidden_poll_flow.mjs", url, bot_url, tmp_path)

    assert seen["sameElement"], "the vote updates the card in place"
    assert seen["cardsAfter"] == seen["cardsBefore"] and seen["messagesAfter"] == seen["messagesBefore"]
    assert "◉ Porto  ✓ Your vote" in seen["ownView"]
    assert "1 vote · 100%" in seen["ownView"], "the creator sees the tallies"
    assert "only you see the results until the poll closes" in seen["ownView"]
    assert "Closes" in seen["sharedText"] and "vote ·" not in seen["sharedText"]
    ((hidden, closes_at),) = db.rows("SELECT hidden, closes_at FROM polls")
    assert hidden == 1, "the form's toggle"
    closes = datetime.fromisoformat(closes_at).astimezone(ZoneInfo(seen["timeZone"]))
    assert (closes.date().isoformat(), closes.strftime("%H:%M")) == (seen["closesOn"], "17:00"), \
        "the form's date and time, in the creator's time zone"

    (poll_id,), = db.rows("SELECT id FROM polls")
    (card_id,), = db.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    other = view_through_playground(url, "user-id-1", "group-chat-id", card_id, poll_id)["value"]
    assert cards.voter_count(other) == 1 and not cards.my_votes(other)
    assert not any("vote ·" in text for text in cards.texts(other)), "no tallies for anyone else while open"
    assert db.rows("SELECT user_id, position FROM votes") == [("user-id-0", 1)]


def view_through_playground(url: str, member: str, conversation: str, card_id: str, poll_id: int) -> dict:
    """A member's view of a card, as Teams' refresh asks for it: the Playground's
    POST /_conversation/v1/invoke forwards the invoke as that member and returns the bot's answer."""
    refresh = {"v": 1, "verb": "poll.refresh", "poll": poll_id}
    body = {"name": "adaptiveCard/action", "from": {"id": member}, "conversation": {"id": conversation},
            "replyToId": card_id, "value": {"action": {"type": "Action.Execute", "verb": "poll.refresh",
                                                       "data": refresh}, "trigger": "automatic"}}
    request = urllib.request.Request(f"{url}/_conversation/v1/invoke", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_click_on_an_option_shows_the_voters_own_view_and_refresh_shows_each_member_theirs(running, tmp_path):
    url, db, bot_url = running
    seen = drive("universal_flow.mjs", url, bot_url, tmp_path)

    long_option = "Deep dive on the new customer onboarding flow and what it means for support"
    assert long_option in seen["sharedText"], "a long option shows in full"
    assert "Close poll" not in seen["sharedText"], "the shared card has no creator controls"
    assert seen["sameElement"], "the answer replaces the card in place"
    assert "◉ Sushi  ✓ Your vote" in seen["ownView"] and re.search(r"\b1 of \d+ members voted", seen["ownView"])
    assert seen["cardsAfter"] == seen["cardsBefore"] and seen["messagesAfter"] == seen["messagesBefore"], \
        "no new message"
    assert db.rows("SELECT user_id, position FROM votes") == [("user-id-0", 1)]

    (poll_id,), = db.rows("SELECT id FROM polls")
    (card_id,), = db.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    views = {member: view_through_playground(url, member, "group-chat-id", card_id, poll_id)
             for member in ("user-id-1", "user-id-2", "user-id-0")}  # Megan (creator), Adele, Alex
    # The Playground passes on the answer's type and value (not its statusCode).
    assert all(v["type"] == "application/vnd.microsoft.card.adaptive" for v in views.values()), views
    megan, adele, alex = (views[m]["value"] for m in ("user-id-1", "user-id-2", "user-id-0"))
    assert "Close poll" in cards.buttons(megan) and not cards.my_votes(megan)
    assert "Close poll" not in cards.buttons(adele) and not cards.my_votes(adele)
    assert cards.my_votes(alex) == ["Sushi"]
    assert db.rows("SELECT user_id, position FROM votes") == [("user-id-0", 1)], "a refresh changes nothing"
