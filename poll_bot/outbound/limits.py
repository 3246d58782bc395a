"""Teams' rate budgets, per thread (conversation) and per tenant, for all instances together.

The sliding logs are kept in the database (store/budget.py): whichever instance
delivers for a conversation reserves each call there in one short transaction.

Headroom against jitter: Teams counts a call when it arrives, which is some time
after the bot sent it, and by a varying amount. So a call counts in the log from
the moment it ends (its answer came back, so it arrived before), and while it is in
flight from its deadline; a new call is let through only when that fits every
window. Arrival jitter can then only spread calls further apart than the log
assumes, never bring them closer. Each window is also widened by `margin`, for the
clocks of several instances, which differ a little.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..store.budget import Windows

# (operations, seconds) — Teams' documented limits for send/update/delete in one thread.
TEAMS_THREAD_WINDOWS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TEAMS_TENANT_WINDOWS = ((50, 1.0),)
# Reading a conversation's members has a budget of its own, twice as large.
TEAMS_MEMBERS_WINDOWS = ((14, 1.0), (16, 2.0), (120, 30.0), (3600, 3600.0))


@dataclass(frozen=True)
class Budget:
    """Which windows a call has to fit: its thread's (for its kind of operation) and its tenant's."""
    thread_windows: Windows = TEAMS_THREAD_WINDOWS
    tenant_windows: Windows = TEAMS_TENANT_WINDOWS
    members_windows: Windows = TEAMS_MEMBERS_WINDOWS
    margin: float = 0.05

    def scopes(self, thread: str, tenant: str, operation: str = "send") -> list[tuple[str, Windows]]:
        """Sends, updates and deletes share their thread's budget; reading members has its own. Creating
        a conversation (opening a 1:1 chat) has one budget for the whole bot: the conversation it is
        for does not exist yet, so Teams cannot count it in the thread the bot happens to start from."""
        if operation == "create":
            own = ("create conversation", self._widened(self.thread_windows))
        else:
            windows = self.members_windows if operation == "members" else self.thread_windows
            own = (f"{operation} {thread}", self._widened(windows))
        return [own, (tenant_scope(tenant), self._widened(self.tenant_windows))]

    @property
    def longest(self) -> float:
        """Seconds a call counts in some window at most."""
        return max(span for windows in (self.thread_windows, self.tenant_windows, self.members_windows)
                   for _, span in windows) + self.margin

    def _widened(self, windows: Windows) -> Windows:
        return tuple((n, span + self.margin) for n, span in windows)


def thread_scopes(thread: str) -> list[str]:
    """Every budget scope of a thread (to forget them with it)."""
    return [f"send {thread}", f"members {thread}"]


def tenant_scope(tenant: str) -> str:
    return f"tenant {tenant}"
