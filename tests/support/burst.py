"""A vote burst on the real process: a poll in a channel and distinct voters pressing Yes at once."""
from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.support import cards, teams
from tests.support.teams import MEGAN


async def until(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return condition()


class Burst:
    """A poll in a channel and 400 distinct voters pressing Yes at once."""

    def __init__(self, session: aiohttp.ClientSession, url: str, connector):
        self.session, self.url, self.connector = session, url, connector
        self.chat = teams.channel_thread()
        self.acknowledged: set[str] = set()

    async def post_poll(self) -> None:
        await self.session.post(self.url, json=teams.message(self.chat, MEGAN, "poll Ship it? | Yes | No",
                                                             self.connector.url))
        # Posted, and its channel's roster asked for (the card's "N of M members voted"): nothing
        # but the votes' card updates is left to send.
        while not (self.connector.cards(self.chat.id) and any(c.method == "GET" for c in self.connector.calls)):
            await asyncio.sleep(0.02)

    def start(self, voters: int = 400) -> list[asyncio.Task]:
        card_id = self.connector.calls_of("POST")[0].activity_id
        vote = cards.vote_buttons(self.connector.cards(self.chat.id)[0])["Yes"]

        async def press(voter: teams.Person) -> None:
            activity = teams.submit(self.chat, voter, vote, card_id, self.connector.url)
            try:
                async with self.session.post(self.url, json=activity) as response:
                    if response.status in (200, 201):
                        self.acknowledged.add(voter.id)
            except aiohttp.ClientError:
                pass  # refused, cut off or the bot died: not acknowledged
        return [asyncio.create_task(press(teams.Person(f"29:burst-voter-{i}", f"Voter {i}"))) for i in range(voters)]

    async def until_acknowledged(self, count: int) -> None:
        while len(self.acknowledged) < count:
            await asyncio.sleep(0.001)

    def shown(self) -> str:
        return cards.option_counts(self.connector.cards(self.chat.id)[0])["Yes"]
