"""Sliding-window rate budgets: per thread (conversation) and per tenant."""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Callable

# (operations, seconds) — Teams' documented limits for send/update/delete in one thread.
TEAMS_THREAD_WINDOWS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TEAMS_TENANT_WINDOWS = ((50, 1.0),)
# Reading a conversation's members has a budget of its own, twice as large.
TEAMS_MEMBERS_WINDOWS = ((14, 1.0), (16, 2.0), (120, 30.0), (3600, 3600.0))


@dataclass
class SlidingWindows:
    windows: tuple[tuple[int, float], ...]
    _events: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))

    def delay(self, key: str, now: float) -> float:
        """Seconds until one more operation on `key` fits every window."""
        events = self._events[key]
        longest = max(span for _, span in self.windows)
        while events and events[0] <= now - longest:
            events.popleft()
        wait = 0.0
        for limit, span in self.windows:
            # The window is full when the limit-th most recent operation is still inside it.
            if len(events) >= limit:
                wait = max(wait, events[-limit] + span - now)
        return wait

    def record(self, key: str, now: float) -> None:
        self._events[key].append(now)


class Budget:
    """Waits until an operation fits both the thread's and the tenant's budget.

    Each window is widened by `margin` seconds: requests reach Teams a little
    jittered, and two sent 1.000 s apart may arrive 0.99 s apart.
    """

    def __init__(self, thread_windows=TEAMS_THREAD_WINDOWS, tenant_windows=TEAMS_TENANT_WINDOWS,
                 members_windows=TEAMS_MEMBERS_WINDOWS, margin: float = 0.05,
                 clock: Callable[[], float] = time.monotonic):
        def widened(windows) -> SlidingWindows:
            return SlidingWindows(tuple((n, span + margin) for n, span in windows))
        # Sends, updates, deletes and creating conversations share a budget; reading members has its own.
        self._threads = {"send": widened(thread_windows), "members": widened(members_windows)}
        self._tenants = widened(tenant_windows)
        self._clock = clock

    async def acquire(self, thread: str, tenant: str, operation: str = "send") -> None:
        threads = self._threads[operation]
        while True:
            now = self._clock()
            wait = max(threads.delay(thread, now), self._tenants.delay(tenant, now))
            if wait <= 0:
                threads.record(thread, now)
                self._tenants.record(tenant, now)
                return
            await asyncio.sleep(wait)
