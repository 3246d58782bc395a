"""The one way out to Teams: every send, update and delete goes through here.

Work is queued durably in the outbox table by the inbound turn (in the same
transaction as the state change) and delivered by one lane per conversation:

* a lane sends one operation at a time, so an older render can never land
  after a newer one;
* it waits for the thread's and the tenant's rate budget before each call;
* a card is rendered from the latest committed state at the moment it is
  sent, and queued updates of one card coalesce into one row;
* failures follow the retry policy (seed 001's status table).

Several instances can share one database (PostgreSQL). Then a conversation's
lane runs in one instance at a time: the one holding its lease (store/lanes.py),
LEASE_SECONDS long and renewed while the lane works. Every transaction of the
lane renews it with the epoch it was taken with, so a holder that lost the lane
(paused past its lease, cut off from the database) stops at its next one. A call
starts only with more lease left than the call can last (CALL_SECONDS plus
GUARD_SECONDS), so it has ended before anyone else can take the lane over. Should
a holder's call still land late (its process was frozen mid-call), each card's
render numbers show it, and the newest state is sent again.

A lane starts when a transaction queues work (in this instance), when another
instance announces work (PostgreSQL's LISTEN/NOTIFY), and from a sweep every
SWEEP_SECONDS for work no live lease covers (its holder died).
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from .. import i18n
from ..cards import MAX_CARD_BYTES, Viewer, card_message, card_size, render_card
from ..logs import log_context
from ..store import Store, UnitOfWork
from ..store.budget import Windows
from ..store.models import Card, Conversation, OutboxJob
from ..turn import shown, thread_key
from .connector import CALL_SECONDS, Connector, ConnectorResult
from .limits import Budget
from .retry import NOT_ALLOWED_HERE, Action, Decision, RetryPolicy

log = logging.getLogger(__name__)

CardRenderer = Callable[[UnitOfWork, Card], dict[str, Any] | None]
# Runs in the transaction that records a newly opened 1:1 chat: (uow, chat's conversation id, job body).
Followup = Callable[[UnitOfWork, str, dict[str, Any]], None]
MEMBER_PAGES = 50  # 500 members a page: a 25,000-member team at most
LEASE_SECONDS = 20.0  # a lane's lease: a call (CALL_SECONDS) and GUARD_SECONDS fit in it
GUARD_SECONDS = 3.0  # clock differences between instances, and time from the lease check to the call
KEEP_SECONDS = 5.0  # a lane that waits (budget, backoff) renews its lease this often
SWEEP_SECONDS = 1.0  # how often to look for work that no live lease covers
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Request:
    """One prepared connector call: send, update, delete, members or open_chat."""
    method: str
    activity: dict[str, Any] | None = None
    activity_id: str | None = None
    version: int = 0  # a card's render number; 0 for anything else


class LaneLost(Exception):
    """The lane is not this instance's any more (another took it over, or the conversation was
    erased): it stops, leaving the work to the holder."""


@dataclass
class Lane:
    """A conversation's lane as this instance holds it."""
    conversation_id: str
    epoch: int
    until: float  # when the lease ends, as last renewed (the pipeline's clock)
    ended: list[tuple[list[int], float]] = field(default_factory=list)  # budget rows of calls that ended, and when


class Pipeline:
    def __init__(self, store: Store, connector: Connector, renderers: dict[str, CardRenderer],
                 budget: Budget | None = None, policy: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.time, followups: dict[str, Followup] | None = None):
        self._store = store
        self._connector = connector
        self._renderers = renderers
        self._followups = followups or {}
        self._budget = budget or Budget()
        self._policy = policy or RetryPolicy()
        self._clock = clock  # seconds since the epoch, the same in every instance (give or take GUARD_SECONDS)
        self._owner = store.instance
        self._lanes: dict[str, asyncio.Task] = {}
        self._dirty: set[str] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopped = False
        self._watchers: list[asyncio.Task] = []
        store.on_enqueue(self.wake)

    async def start(self) -> None:
        """Deliver whatever was queued, or in flight when the process last stopped, that no live
        lease covers. On SQLite this process is the only one: its predecessor's leases are void."""
        if not self._store.shared:
            await self._store.run(lambda uow: uow.lanes.release_all())
        await self.sweep()
        self._watchers = [asyncio.create_task(self._sweep_forever()),
                          asyncio.create_task(self._store.listen(self.wake))]

    def stop_watching(self) -> None:
        """Take on no work but this instance's own from now on (no sweep, no other instance's
        announcements): a stopping instance delivers what it queued and leaves the rest to others."""
        for task in self._watchers:
            task.cancel()

    async def stop(self) -> None:
        """Cancel every lane, wherever it waits (a budget, a backoff, a call to Teams), put the
        jobs they had claimed back in the queue and release their leases: another instance
        takes them over at once, or this one after a restart."""
        self._stopped = True
        tasks = self._watchers + list(self._lanes.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._store.run(_release_lanes, self._owner)

    def wake(self, conversation_ids: set[str]) -> None:
        if self._stopped:
            return
        for conversation_id in conversation_ids:
            self._dirty.add(conversation_id)
            if conversation_id not in self._lanes:
                self._idle.clear()
                self._lanes[conversation_id] = asyncio.create_task(self._run_lane(conversation_id))

    def lane_count(self) -> int:
        """Conversations this process is delivering to now."""
        return len(self._lanes)

    async def wait_idle(self) -> None:
        """Until no lane of this instance has deliverable work (tests, and shutdown while its time lasts)."""
        await self._idle.wait()

    async def sweep(self) -> None:
        """Start a lane for each conversation with deliverable work that no live lease covers."""
        self.wake(set(await self._store.run(lambda uow: uow.lanes.unowned_work(self._clock(), SWEEP_BATCH))))

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep()
            except Exception:
                log.exception("looking for outbound work failed; will try again")

    async def _run_lane(self, conversation_id: str) -> None:
        try:
            # A lane outlives the turn that woke it: its lines carry its conversation, not that turn's activity.
            with log_context(conversation_id=conversation_id):
                await self._drain(conversation_id)
        except LaneLost:
            log.warning("no longer holds the lane of %s (taken over, or the conversation erased); "
                        "its work is left to the holder", conversation_id)
        except Exception:
            # The work stays in the outbox; the next wake-up (or sweep) starts a new lane.
            log.exception("outbound lane for %s stopped", conversation_id)
        finally:
            self._lanes.pop(conversation_id, None)
            if not self._lanes:
                self._idle.set()

    async def _drain(self, conversation_id: str) -> None:
        while conversation_id in self._dirty:
            self._dirty.discard(conversation_id)
            now = self._clock()
            epoch = await self._store.run(_take, conversation_id, self._owner, now, now + LEASE_SECONDS)
            if epoch is None:
                return  # another instance delivers there: what was queued is its to send
            lane = Lane(conversation_id, epoch, now + LEASE_SECONDS)
            while job_and_conversation := await self._store.run(self._next, lane):
                await self._deliver_safely(lane, *job_and_conversation)

    def _next(self, uow: UnitOfWork, lane: Lane) -> tuple[OutboxJob, Conversation] | None:
        """The lane's next job, or None with the lease released. Renewing first locks the lane's
        row, so an instance queueing work meanwhile either shows here or finds the lane free."""
        self._renew(uow, lane)
        job, conversation = _head(uow, lane.conversation_id)
        if job is None or conversation is None or not conversation.active:
            uow.lanes.release(lane.conversation_id, self._owner, lane.epoch)
            return None
        return job, conversation

    def _renew(self, uow: UnitOfWork, lane: Lane) -> None:
        until = self._clock() + LEASE_SECONDS
        if not uow.lanes.renew(lane.conversation_id, self._owner, lane.epoch, until):
            raise LaneLost(lane.conversation_id)
        lane.until = until

    async def _keep(self, lane: Lane) -> None:
        """Make sure a call starting now ends before the lease does."""
        if lane.until - self._clock() < CALL_SECONDS + GUARD_SECONDS:
            await self._store.run(self._renew, lane)

    async def _pause(self, lane: Lane, seconds: float) -> None:
        """Wait, keeping the lease meanwhile."""
        while seconds > KEEP_SECONDS:
            await asyncio.sleep(KEEP_SECONDS)
            seconds -= KEEP_SECONDS
            await self._store.run(self._renew, lane)
        await asyncio.sleep(seconds)

    async def _deliver_safely(self, lane: Lane, job: OutboxJob, conversation: Conversation) -> None:
        try:
            await self._deliver(lane, job, conversation)
        except (asyncio.CancelledError, LaneLost):
            raise
        except Exception:
            # A bug or a database error must not kill the lane or spin on one job.
            log.exception("outbox job %s (%s) failed", job.id, job.kind)
            give_up = job.attempts + 1 >= self._policy.max_attempts
            not_before = self._clock() + self._policy.backoff(job.attempts)
            await self._store.run(self._give_up_or_retry, lane, job, give_up, not_before)

    async def _deliver(self, lane: Lane, job: OutboxJob, conversation: Conversation) -> None:
        wait = job.not_before - self._clock()
        if wait > 0:
            await self._pause(lane, wait)
        operation = {"fetch_members": "members", "open_personal_chat": "create"}.get(job.kind, "send")
        spent = await self._spend(lane, conversation, operation)
        # Claim and render together: a change committed after this point queues a new update.
        request = await self._store.run(self._claim_and_prepare, lane, job, conversation)
        if request is None:
            lane.ended.append((spent, self._clock()))  # nothing to send after all
            return
        result = await self._call(lane, conversation, request, spent)
        decision = self._policy.decide(result.status, result.error_code, result.retry_after,
                                       job.attempts, conversation.service_url)
        settled = await self._store.run(self._settle, lane, job, conversation, request, result, decision)
        lane.ended = []
        if not settled:
            raise LaneLost(lane.conversation_id)

    async def _spend(self, lane: Lane, conversation: Conversation, operation: str = "send") -> list[int]:
        """Wait until one more call fits the thread's and the tenant's budgets; its rows in the send log."""
        scopes = self._budget.scopes(thread_key(conversation.id), conversation.tenant_id, operation)
        while True:
            now = self._clock()
            spent, wait = await self._store.run(_reserve, scopes, now, now + CALL_SECONDS + GUARD_SECONDS,
                                                lane.ended)
            lane.ended = []
            if not wait:
                return spent
            await self._pause(lane, wait)

    async def _teams(self, lane: Lane, spent: list[int], call: Callable[[], Awaitable[ConnectorResult]]
                     ) -> ConnectorResult:
        """One call toward Teams, with lease enough left for it; when it ended is noted for the budget."""
        await self._keep(lane)
        try:
            return await call()
        finally:
            lane.ended.append((spent, self._clock()))

    def _claim_and_prepare(self, uow: UnitOfWork, lane: Lane, job: OutboxJob, conversation: Conversation
                           ) -> Request | None:
        self._renew(uow, lane)
        if not uow.outbox.claim(job.id):
            return None
        request = self._prepare(uow, job, conversation)
        if request is None:
            uow.outbox.finish(job.id)
        return request

    def _prepare(self, uow: UnitOfWork, job: OutboxJob, conversation: Conversation) -> Request | None:
        if job.kind == "send_message":
            return Request("send", job.body)
        if job.kind == "delete_message":
            tombstone = job.body.get("tombstone")
            with i18n.using(job.body.get("locale")):
                replacement = card_message(render_card("deleted", subject=tombstone)) if tombstone else None
            return Request("delete", replacement, job.body["activity_id"])
        if job.kind == "fetch_members":
            return Request("members")
        if job.kind == "open_personal_chat":
            return Request("open_chat", job.body)
        card = uow.cards.get(job.card_id)
        if card is None:
            return None
        if job.kind == "update_card" and card.activity_id is None:
            return None  # never sent, or Teams lost it: nothing to update in place
        # A 1:1 chat has one person: its card is their own view (their vote marked, their controls).
        person = uow.people.person_in_chat(card.conversation_id)
        # There, too, in that person's own language; elsewhere in the card's (its creator's).
        with i18n.using(conversation.locale if person and conversation.locale else card.locale):
            content = self._renderers[card.kind](uow, card, Viewer(person) if person else None)
        if content is None:
            return None
        if card_size(content) > MAX_CARD_BYTES:
            log.error("card %s (%s) is %d bytes, over the limit; not sent", card.id, card.kind, card_size(content))
            return None
        activity = card_message(content)
        version = uow.cards.next_render(card.id)
        if job.kind == "send_card":
            return Request("send", activity, version=version)
        return Request("update", activity, card.activity_id, version)

    async def _call(self, lane: Lane, conversation: Conversation, request: Request, spent: list[int]
                    ) -> ConnectorResult:
        url, conv_id, connector = conversation.service_url, conversation.id, self._connector
        if request.method == "send":
            return await self._teams(lane, spent, lambda: connector.send(url, conv_id, request.activity))
        if request.method == "update":
            return await self._teams(lane, spent, lambda: connector.update(url, conv_id, request.activity_id,
                                                                           request.activity))
        if request.method == "members":
            return await self._all_members(lane, conversation, spent)
        if request.method == "open_chat":
            return await self._teams(lane, spent, lambda: connector.create_conversation(
                url, conversation.bot_id, request.activity["user_id"], conversation.tenant_id))
        return await self._delete(lane, conversation, request, spent)

    async def _delete(self, lane: Lane, conversation: Conversation, request: Request, spent: list[int]
                      ) -> ConnectorResult:
        """Delete a message; a card Teams refuses to delete (501, or 403 in some clients) is replaced
        by its tombstone card instead, so no live buttons are left behind."""
        url, conv_id, connector = conversation.service_url, conversation.id, self._connector
        result = await self._teams(lane, spent, lambda: connector.delete(url, conv_id, request.activity_id))
        refused = result.status == 501 or (result.status == 403 and result.error_code not in NOT_ALLOWED_HERE)
        if not refused or request.activity is None:
            return result
        log.info("Teams would not delete %s (%s); replacing it with a 'deleted' card", request.activity_id, result.status)
        spent = await self._spend(lane, conversation)
        return await self._teams(lane, spent, lambda: connector.update(url, conv_id, request.activity_id,
                                                                       request.activity))

    async def _all_members(self, lane: Lane, conversation: Conversation, spent: list[int]) -> ConnectorResult:
        """Every page of the roster, each page within the members budget; body is the member list."""
        members, token = [], None
        for page in range(MEMBER_PAGES):
            if page:
                spent = await self._spend(lane, conversation, "members")
            result = await self._teams(lane, spent, lambda: self._connector.members_page(
                conversation.service_url, conversation.roster_id, token))
            if not 200 <= result.status < 300 or not isinstance(result.body, dict):
                return result
            members += [m for m in result.body.get("members") or [] if isinstance(m, dict) and m.get("id")]
            token = result.body.get("continuationToken")
            if not token:
                break
        return ConnectorResult(status=200, body=members)

    def _settle(self, uow: UnitOfWork, lane: Lane, job: OutboxJob, conversation: Conversation, request: Request,
                result: ConnectorResult, decision: Decision) -> bool:
        """Record the call's outcome; False, with only what any instance may record, if the lane
        was taken over meanwhile (the new holder sends the job again)."""
        _stamp(uow, lane.ended)
        if uow.conversations.get(conversation.id) is None:
            return True  # erased meanwhile (the bot was uninstalled): nothing to record
        if request.version and decision.action is Action.DONE and not uow.cards.show(job.card_id, request.version):
            # A newer render of this card was taken before this one: this older one may have landed
            # after it (its process paused mid-call), so the card is sent again as it is now.
            log.warning("an older render of card %s landed late; sending the card again", job.card_id)
            uow.outbox.enqueue(conversation.id, "update_card", card_id=job.card_id)
        try:
            self._renew(uow, lane)
        except LaneLost:
            return False
        if decision.action is Action.DONE:
            uow.outbox.finish(job.id)
            if job.kind == "send_card":
                _remember_card_id(uow, job, result)
            elif job.kind == "send_message" and result.activity_id:
                card_id = job.card_id if job.card_id and uow.cards.get(job.card_id) else None
                uow.messages.record_sent(conversation.id, result.activity_id, card_id, shown(job.body.get("text", "")))
            elif job.kind == "fetch_members":
                uow.people.replace_members(conversation.id, [
                    (m["id"], m.get("name") or m.get("givenName") or "", m.get("aadObjectId") or "")
                    for m in result.body
                ])
                self._follow_up(uow, conversation.id, job.body)
            elif job.kind == "open_personal_chat":
                self._personal_chat_opened(uow, conversation, job.body, result)
        elif decision.action is Action.RETRY:
            log.info("outbox job %s got %s; retry in %.2fs", job.id, result.status, decision.delay)
            uow.outbox.retry_later(job, self._clock() + decision.delay)
        elif decision.action is Action.DEACTIVATE:
            log.warning("Teams refused %s (%s); not posting there until a user writes",
                        conversation.id, result.error_code)
            uow.conversations.set_active(conversation.id, False)
            uow.outbox.release(job)
        elif decision.action is Action.SWITCH_TO_GCC:
            log.warning("conversation %s belongs to a GCC tenant; switching its service URL", conversation.id)
            uow.conversations.set_service_url(conversation.id, self._policy.gcc_service_url)
            uow.outbox.retry_later(job, self._clock())
        elif decision.action is Action.FORGET_CARD:
            log.warning("message for card %s is gone from Teams; forgetting its id", job.card_id)
            uow.outbox.finish(job.id)
            if job.card_id is not None:
                uow.cards.set_activity_id(job.card_id, None)
        else:
            log.error("outbox job %s (%s) dropped after %s %s, attempt %d",
                      job.id, job.kind, result.status, result.error_code, job.attempts + 1)
            uow.outbox.finish(job.id)
        return True

    def _give_up_or_retry(self, uow: UnitOfWork, lane: Lane, job: OutboxJob, give_up: bool,
                          not_before: float) -> None:
        self._renew(uow, lane)
        if give_up:
            uow.outbox.finish(job.id)
        else:
            uow.outbox.retry_later(job, not_before)

    def _personal_chat_opened(self, uow: UnitOfWork, origin: Conversation, body: dict[str, Any],
                              result: ConnectorResult) -> None:
        if not result.activity_id:
            log.warning("Teams opened no 1:1 chat with %s", body.get("user_id"))
            return
        chat = Conversation(id=result.activity_id, conversation_type="personal", tenant_id=origin.tenant_id,
                            service_url=origin.service_url, bot_id=origin.bot_id)
        uow.conversations.upsert(chat, reactivate=False)
        uow.people.remember_personal_chat(body["user_id"], chat.id)
        self._follow_up(uow, chat.id, body)

    def _follow_up(self, uow: UnitOfWork, conversation_id: str, body: dict[str, Any]) -> None:
        """What the job's body says to do once it succeeded (`then`), in that conversation."""
        followup = self._followups.get(body.get("then", {}).get("kind"))
        if followup:
            followup(uow, conversation_id, body["then"])


def _take(uow: UnitOfWork, conversation_id: str, owner: str, now: float, until: float) -> int | None:
    """Take the lane if no live lease covers it; whatever was claimed there is then no one's
    any more (released, or its holder lost the lane) and goes back to the queue."""
    epoch = uow.lanes.take(conversation_id, owner, now, until)
    if epoch is not None:
        uow.outbox.release_claims([conversation_id])
    return epoch


def _release_lanes(uow: UnitOfWork, owner: str) -> None:
    """Give back every lane this instance holds, its claims to the queue, and tell the others."""
    conversation_ids = uow.lanes.release_all(owner)
    uow.outbox.release_claims(conversation_ids)
    for conversation_id in conversation_ids:
        uow.outbox.wake(conversation_id)


def _reserve(uow: UnitOfWork, scopes: list[tuple[str, Windows]], now: float, deadline: float,
             ended: list[tuple[list[int], float]]) -> tuple[list[int], float]:
    _stamp(uow, ended)
    return uow.budget.reserve(scopes, now, deadline)


def _stamp(uow: UnitOfWork, ended: list[tuple[list[int], float]]) -> None:
    """Record when calls ended, for the budget: the lane's next transaction does, whichever it is."""
    for spent, at in ended:
        uow.budget.spent(spent, at)


def _head(uow: UnitOfWork, conversation_id: str) -> tuple[OutboxJob | None, Conversation | None]:
    conversation = uow.conversations.get(conversation_id)
    if conversation is not None and conversation.suspended:
        # Nothing is posted into an archived team or a deleted channel; opening someone's
        # 1:1 chat from there (to tell them something) still goes ahead.
        return uow.outbox.head(conversation_id, ("open_personal_chat",)), conversation
    return uow.outbox.head(conversation_id), conversation


def _remember_card_id(uow: UnitOfWork, job: OutboxJob, result: ConnectorResult) -> None:
    if result.activity_id:
        uow.cards.set_activity_id(job.card_id, result.activity_id)
    else:
        log.warning("Teams returned no id for card %s; it cannot be updated in place", job.card_id)
