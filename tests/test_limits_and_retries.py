"""The retry table and the rate limits' configuration as plain Python (the budgets themselves
live in the store: tests/test_store_contract.py)."""
from __future__ import annotations

import pytest

from poll_bot.config import parse_windows
from poll_bot.outbound.retry import Action, RetryPolicy


@pytest.mark.parametrize("status,code,expected", [
    (200, "", Action.DONE),
    (201, "", Action.DONE),
    (429, "Throttled", Action.RETRY),
    (412, "PreconditionFailed", Action.RETRY),
    (502, "ServiceError", Action.RETRY),
    (503, "", Action.RETRY),
    (504, "", Action.RETRY),
    (400, "BadArgument", Action.DROP),
    (401, "BotNotRegistered", Action.DROP),
    (413, "MessageSizeTooBig", Action.DROP),
    (500, "ServiceError", Action.DROP),
    (404, "ConversationNotFound", Action.DROP),
    (404, "ActivityNotFoundInConversation", Action.FORGET_CARD),
    (403, "BotNotInConversationRoster", Action.DEACTIVATE),
    (403, "ConversationBlockedByUser", Action.DEACTIVATE),
    (403, "NotEnoughPermissions", Action.DROP),
    (403, "InvalidBotApiHost", Action.SWITCH_TO_GCC),
])
def test_status_table(status, code, expected):
    assert RetryPolicy().decide(status, code, None, 0, "https://smba.trafficmanager.net/amer/").action is expected


def test_retry_after_is_honoured_and_attempts_are_bounded():
    policy = RetryPolicy(max_attempts=3)
    assert policy.decide(429, "Throttled", 2.5, 0, "u").delay == 2.5
    assert policy.decide(503, "", None, 1, "u").action is Action.RETRY
    assert policy.decide(503, "", None, 2, "u").action is Action.DROP


def test_backoff_grows_with_jitter_and_a_cap():
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    for attempt in range(8):
        assert 0 <= policy.backoff(attempt) <= min(4.0, 0.5 * 2 ** attempt)


def test_gcc_is_tried_once():
    policy = RetryPolicy(gcc_service_url="https://gcc.example/")
    assert policy.decide(403, "InvalidBotApiHost", None, 0, "https://gcc.example").action is Action.DROP


def test_limits_configuration():
    assert parse_windows("7/1,8/2,60/30") == ((7, 1.0), (8, 2.0), (60, 30.0))
    for bad in ("", "7", "7/0", "x/1", "0/1"):
        with pytest.raises(ValueError):
            parse_windows(bad)
