"""Who may do what: every state-changing action against every role, as the README's
"Who may do what" table says. A refusal changes nothing that is stored."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.support import cards, teams
from tests.support.teams import ALEX, MEGAN, PAT

LEE = teams.Person("29:1lee-gu-teams-id", "Lee Gu")
EVE = teams.Person("29:1eve-other-chat-id", "Eve Holt")
MALLORY = teams.Person("29:1mallory-other-tenant-id", "Mallory Stone")
OTHER_TENANT = "00000000-0000-4000-8000-0000000000ee"

@pytest.fixture(params=["submit", "invoke"])
def press_path(request):
    """Every cell holds for Action.Submit presses and for Action.Execute invokes."""
    return request.param


ROLES = {
    "creator": MEGAN,  # created the poll and requested the approval
    "approver on turn": ALEX,  # first of a sequence: it is his turn
    "other approver": PAT,  # second of the sequence: not her turn yet
    "member": LEE,
    "other conversation": EVE,  # presses the same buttons from a chat of her own
    "other tenant": MALLORY,  # in the same conversation id, but from another tenant
}
# The README's table, cell by cell.
ALLOWED = {
    "vote": {"creator", "approver on turn", "other approver", "member"},
    "close": {"creator"},
    "reopen": {"creator"},
    "delete": {"creator"},
    "edit": {"creator"},
    "add option": {"creator"},  # on a poll posted without --add-options
    "remind": {"creator"},
    "approve": {"approver on turn"},
    "reject": {"approver on turn"},
    "cancel": {"creator"},
    "reassign": {"approver on turn"},
}
# Everything people see as a poll or a request: a refusal must leave all of it as it was.
DOMAIN = (
    "SELECT * FROM polls", "SELECT * FROM poll_options", "SELECT * FROM votes", "SELECT * FROM approvals",
    "SELECT * FROM approval_approvers", "SELECT * FROM approval_events",
    "SELECT id, kind, subject_id, owner_id, state, activity_id FROM cards",
)


@dataclass
class Scene:
    bot: Any
    chat: teams.Chat
    poll_card: str
    approval_card: str
    command_id: str  # the `poll ...` message that created the poll

    def snapshot(self) -> dict[str, list[tuple]]:
        found = {sql: sorted(self.bot.rows(sql), key=repr) for sql in DOMAIN}
        found["conversation"] = self.bot.rows(
            "SELECT tenant_id, service_url, active FROM conversations WHERE id = ?", self.chat.id)
        return found

    async def button(self, activity_id: str, title: str) -> dict:
        """The button's payload from the shared card, or from the view of someone it is shown to."""
        shared = cards.buttons(self.bot.connector.card(self.chat.id, activity_id))
        if title in shared:
            return shared[title]
        for entitled in (MEGAN, ALEX):
            shown = cards.buttons(await self.bot.view(self.chat, entitled, activity_id))
            if title in shown:
                return shown[title]
        raise KeyError(title)


def where_they_act(role: str, chat: teams.Chat) -> teams.Chat:
    if role == "other conversation":
        return teams.Chat({**chat.conversation, "id": "19:eve-own-chat@thread.v2"}, copy.deepcopy(chat.channel_data),
                          mention_bot=True)
    if role == "other tenant":
        return teams.Chat({**chat.conversation, "tenantId": OTHER_TENANT},
                          {**chat.channel_data, "tenant": {"id": OTHER_TENANT}}, mention_bot=True)
    return chat


async def set_scene(bot) -> Scene:
    chat = teams.group_chat()
    bot.connector.rosters[chat.id] = [p.account() for p in (MEGAN, ALEX, PAT, LEE)]
    command = teams.message(chat, MEGAN, "poll Lunch? | Pizza | Sushi", bot.connector.url)
    assert await bot.post(command) == 200
    await bot.say(chat, MEGAN, "approval")
    await bot.settle()
    (poll_card,), (form,) = (bot.rows(f"SELECT activity_id FROM cards WHERE kind = '{kind}'")[0]
                             for kind in ("poll", "approval_form"))
    form_data = cards.buttons(bot.connector.card(chat.id, form))["Send request"]
    await bot.press(chat, MEGAN, form, form_data, {"title": "New laptops", "approvers": f"{ALEX.id},{PAT.id}",
                                                   "policy": "sequence", "quorum": "1"})
    (approval_card,) = bot.rows("SELECT activity_id FROM cards WHERE kind = 'approval' AND conversation_id = ?",
                                chat.id)[0]
    return Scene(bot, chat, poll_card, approval_card, command["id"])


async def act(scene: Scene, action: str, person: teams.Person, chat: teams.Chat) -> None:
    bot = scene.bot
    if action == "edit":
        assert await bot.post(teams.edited(chat, person, scene.command_id, "poll Lunch on Friday? | Pizza | Sushi",
                                           bot.connector.url)) == 200
        await bot.settle()
        return
    card, title, inputs = {
        "vote": (scene.poll_card, "Pizza", {}),
        "close": (scene.poll_card, "Close poll", {}),
        "reopen": (scene.poll_card, "Reopen poll", {}),
        "delete": (scene.poll_card, "Yes, delete it", {}),
        "add option": (scene.poll_card, "Add option", {"new_option": "Ramen"}),
        "remind": (scene.poll_card, "🔔 Remind the 3 people who haven't voted", {}),
        "approve": (scene.approval_card, "Confirm approval", {"comment": "fine"}),
        "reject": (scene.approval_card, "Confirm rejection", {"reason": "over budget"}),
        "cancel": (scene.approval_card, "Yes, cancel it", {}),
        "reassign": (scene.approval_card, "Hand over my turn", {"reassign_to": LEE.id}),
    }[action]
    await bot.press(chat, person, card, await scene.button(card, title), inputs)


# What an allowed action changed, read from the store.
EFFECTS: dict[str, Callable[[Scene, teams.Person], bool]] = {
    "vote": lambda s, p: s.bot.rows("SELECT user_id, position FROM votes") == [(p.id, 0)],
    "close": lambda s, p: s.bot.rows("SELECT status FROM polls") == [("closed",)],
    "reopen": lambda s, p: s.bot.rows("SELECT status FROM polls") == [("open",)],
    "delete": lambda s, p: s.bot.rows("SELECT * FROM polls") == [] and s.bot.rows("SELECT * FROM poll_options") == [],
    "edit": lambda s, p: s.bot.rows("SELECT question FROM polls") == [("Lunch on Friday?",)],
    "add option": lambda s, p: s.bot.rows("SELECT label FROM poll_options ORDER BY position") == [
        ("Pizza",), ("Sushi",), ("Ramen",)],
    "remind": lambda s, p: len(s.bot.rows("SELECT person FROM poll_reminders")) == 3,
    "approve": lambda s, p: s.bot.rows("SELECT user_id, decision FROM approval_approvers ORDER BY position")
    == [(ALEX.id, "approved"), (PAT.id, None)],
    "reject": lambda s, p: s.bot.rows("SELECT status FROM approvals") == [("rejected",)],
    "cancel": lambda s, p: s.bot.rows("SELECT status FROM approvals") == [("cancelled",)],
    "reassign": lambda s, p: s.bot.rows("SELECT user_id FROM approval_approvers ORDER BY position")
    == [(LEE.id,), (PAT.id,)],
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ALLOWED)
async def test_each_action_is_allowed_or_refused_for_each_role(make_bot, action, role):
    scene = await set_scene(await make_bot())
    if action == "reopen":
        await act(scene, "close", MEGAN, scene.chat)
    before = scene.snapshot()

    await act(scene, action, ROLES[role], where_they_act(role, scene.chat))

    if role in ALLOWED[action]:
        assert EFFECTS[action](scene, ROLES[role]), f"{role} could not {action}"
    else:
        assert scene.snapshot() == before, f"{role}'s refused {action} changed what is stored"


def test_the_matrix_is_the_readmes_table():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("### Who may do what", 1)[1].split("\n\n", 2)[1]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in table.splitlines()[2:]}
    header = [c.strip() for c in table.splitlines()[0].split("|")[2:-1]]
    assert header == list(ROLES)
    assert set(rows) == set(ALLOWED)
    for action, cells in rows.items():
        assert {role for role, cell in zip(header, cells) if cell == "yes"} == ALLOWED[action], action
        assert all(cell in ("yes", "no") for cell in cells), action
