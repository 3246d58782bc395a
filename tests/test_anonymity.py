"""Anonymous polls keep no trace of who voted: after people vote, move and take back their votes
on both press paths, no table (on either database), no byte of the SQLite files (the database,
its WAL and its shared-memory index) and no log line holds a voter's id or name. The same steps on
a named poll find them, so the search can fail."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support import cards, teams
from tests.support.teams import MEGAN

# Names and ids that appear nowhere else.
VOTERS = [teams.Person("29:1xq-anon-voter-ximena-7731", "Ximena Quarterfield-Voss"),
          teams.Person("29:1xq-anon-voter-balthazar-5520", "Balthazar Oyelaran-Pike"),
          teams.Person("29:1xq-anon-voter-wilhelmina-9034", "Wilhelmina Zbrozek-Hale")]
SECRETS = [text for voter in VOTERS for text in (voter.id, voter.name)]


@pytest.fixture(params=["submit", "invoke"])
def press_path(request):
    return request.param


async def vote_move_and_take_back(bot, flags: str) -> None:
    chat = teams.channel_thread()
    await bot.say(chat, MEGAN, f"poll {flags} Lunch? | Pizza | Sushi | Tacos")
    (card_id,), = bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'")
    vote = cards.vote_buttons(bot.connector.card(chat.id, card_id))
    first, second, third = VOTERS
    for person, option in ((first, "Pizza"), (second, "Sushi"), (third, "Sushi"), (first, "Tacos"),
                           (third, "Sushi")):  # the first moves his vote, the third takes hers back
        await bot.press(chat, person, card_id, vote[option])
    assert cards.my_votes(await bot.view(chat, first, card_id)) == ["Tacos"], "each still sees their own vote"
    await bot.press(chat, MEGAN, card_id, await bot.button(chat, MEGAN, card_id, "Close poll"))
    assert bot.rows("SELECT position FROM votes ORDER BY position") == [(1,), (2,)]


def found_in_tables(bot) -> set[str]:
    stored = "\n".join(str(bot.rows(f'SELECT * FROM "{table}"')) for table in bot.db.tables())
    return {text for text in SECRETS if text in stored}


def found_in_files(bot) -> set[str]:
    database = Path(bot.db.path)
    files = [path for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")) if path.exists()]
    assert len(files) == 3, "the bot's connection is open: WAL mode keeps all three"
    content = b"".join(path.read_bytes() for path in files)
    return {text for text in SECRETS if text.encode() in content}


async def test_an_anonymous_poll_stores_no_voters_id_or_name_anywhere(bot, caplog):
    with caplog.at_level(logging.DEBUG):
        await vote_move_and_take_back(bot, "--anonymous")

    assert found_in_tables(bot) == set()
    if bot.db.name == "sqlite":
        assert found_in_files(bot) == set()
    assert {text for text in SECRETS if text in caplog.text} == set()


async def test_a_named_poll_does_store_them_so_the_search_works(bot):
    await vote_move_and_take_back(bot, "")

    assert found_in_tables(bot) >= {VOTERS[0].id, VOTERS[0].name, VOTERS[1].name}
    if bot.db.name == "sqlite":
        assert found_in_files(bot) >= {VOTERS[0].id, VOTERS[0].name, VOTERS[1].name}


async def test_lists_show_an_anonymous_poll_to_its_creator_only(bot):
    chat = teams.group_chat()
    voter = VOTERS[0]
    await bot.say(chat, MEGAN, "poll --anonymous Secret ballot? | Yes | No")
    await bot.say(chat, MEGAN, "poll Named ballot? | Yes | No")
    for (card_id,) in bot.rows("SELECT activity_id FROM cards WHERE kind = 'poll'"):
        await bot.press(chat, voter, card_id, cards.vote_buttons(bot.connector.card(chat.id, card_id))["Yes"])

    for person, listed in ((voter, ["Named ballot?"]), (MEGAN, ["Named ballot?", "Secret ballot?"])):
        personal = teams.personal_chat(person)
        await bot.say(personal, person, "my open polls")
        lines = bot.connector.texts(personal.id)[-1].splitlines()[1:]
        assert [line.removeprefix("• ").split(" — ")[0] for line in lines] == listed, person
