"""What a poll card says about its result (pure view functions)."""
from __future__ import annotations

import pytest

from poll_bot.features.poll_views import poll_view
from poll_bot.store.models import Poll, PollOption, PollResults


def poll(status: str, multiple_choice: bool = False) -> Poll:
    options = tuple(PollOption(i, label) for i, label in enumerate(("Pizza", "Sushi", "Tacos")))
    return Poll(1, "19:chat", "29:megan", "Megan", "Lunch?", multiple_choice, status, options)


@pytest.mark.parametrize("status, multiple, counts, voters, summary", [
    ("closed", False, {0: 2, 1: 3, 2: 1}, 6, "Sushi won with 3 of 6 votes"),
    ("closed", False, {0: 3, 1: 3}, 6, "Tie: Pizza and Sushi, with 3 votes each"),
    ("closed", False, {0: 1, 1: 1, 2: 1}, 3, "Tie: Pizza, Sushi and Tacos, with 1 vote each"),
    ("closed", True, {0: 2, 1: 3, 2: 1}, 4, "Sushi won, chosen by 3 of 4 people · percentages are of voters"),
    ("closed", False, {}, 0, "Final result: no votes were cast."),
    ("open", True, {0: 2, 1: 3}, 4, "4 people voted · percentages are of voters"),
    ("open", False, {0: 1}, 1, "1 person voted"),
])
def test_the_summary_names_the_winner_or_the_tie(status, multiple, counts, voters, summary):
    assert poll_view(poll(status, multiple), PollResults(counts, voters)).summary_line == summary
