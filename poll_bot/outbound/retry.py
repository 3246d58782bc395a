"""What to do with a connector answer, after the status table in seed 001."""
from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

RETRYABLE = {412, 429, 502, 503, 504}
# 403 codes meaning the bot may not post in the conversation at all (until a user writes there).
NOT_ALLOWED_HERE = ("BotNotInConversationRoster", "ConversationBlockedByUser", "BotDisabledByAdmin")


class Action(Enum):
    DONE = "done"
    RETRY = "retry"
    DROP = "drop"  # not retryable: log and give up
    DEACTIVATE = "deactivate"  # stop posting to the conversation until a user writes
    FORGET_CARD = "forget_card"  # the message is gone: forget its stored id
    SWITCH_TO_GCC = "switch_to_gcc"


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    # Where a GCC tenant's conversations live (seed 001, 403 InvalidBotApiHost).
    gcc_service_url: str = "https://smba.infra.gcc.teams.microsoft.com/"

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))

    def decide(self, status: int, error_code: str, retry_after: float | None, attempts: int,
               service_url: str) -> Decision:
        """`attempts` counts earlier tries of this job, not including the one just answered."""
        if 200 <= status < 300:
            return Decision(Action.DONE)
        if status == 403 and error_code in NOT_ALLOWED_HERE:
            return Decision(Action.DEACTIVATE)
        if status == 403 and error_code == "InvalidBotApiHost":
            already_gcc = service_url.rstrip("/") == self.gcc_service_url.rstrip("/")
            return Decision(Action.DROP if already_gcc else Action.SWITCH_TO_GCC)
        if status == 404 and error_code == "ActivityNotFoundInConversation":
            return Decision(Action.FORGET_CARD)
        if status in RETRYABLE and attempts + 1 < self.max_attempts:
            if status == 429 and retry_after is not None:
                return Decision(Action.RETRY, retry_after)
            return Decision(Action.RETRY, self.backoff(attempts))
        return Decision(Action.DROP)
