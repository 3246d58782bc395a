"""The one way out to Teams: every send, update and delete goes through here.

Work is queued durably in the outbox table by the inbound turn (in the same
transaction as the state change) and delivered by one lane per conversation:

* a lane sends one operation at a time, so an older render can never land
  after a newer one;
* it waits for the thread's and the tenant's rate budget before each call;
* a card is rendered from the latest committed state at the moment it is
  sent, and queued updates of one card coalesce into one row;
* failures follow the retry policy (seed 001's status table).
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from .. import i18n
from ..cards import MAX_CARD_BYTES, Viewer, card_message, card_size, render_card
from ..logs import log_context
from ..store import Store, UnitOfWork
from ..store.models import Card, Conversation, OutboxJob
from ..turn import shown, thread_key
from .connector import Connector, ConnectorResult
from .limits import Budget
from .retry import NOT_ALLOWED_HERE, Action, Decision, RetryPolicy

log = logging.getLogger(__name__)

CardRenderer = Callable[[UnitOfWork, Card], dict[str, Any] | None]
# Runs in the transaction that records a newly opened 1:1 chat: (uow, chat's conversation id, job body).
Followup = Callable[[UnitOfWork, str, dict[str, Any]], None]
MEMBER_PAGES = 50  # 500 members a page: a 25,000-member team at most


@dataclass(frozen=True)
class Request:
    """One prepared connector call: send, update, delete, members or open_chat."""
    method: str
    activity: dict[str, Any] | None = None
    activity_id: str | None = None


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
        self._clock = clock
        self._lanes: dict[str, asyncio.Task] = {}
        self._dirty: set[str] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopped = False
        store.on_enqueue(self.wake)

    async def start(self) -> None:
        """Resume whatever was queued or in flight when the process last stopped."""
        self.wake(set(await self._store.run(_resume)))

    async def stop(self) -> None:
        """Cancel every lane, wherever it waits (a budget, a backoff, a call to Teams), and put
        the jobs they had claimed back in the queue: all of it goes out after a restart."""
        self._stopped = True
        lanes = list(self._lanes.values())
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        await self._store.run(lambda uow: uow.outbox.release_claims())

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
        """Until no lane has deliverable work (tests, and shutdown while its time lasts)."""
        await self._idle.wait()

    async def _run_lane(self, conversation_id: str) -> None:
        try:
            # A lane outlives the turn that woke it: its lines carry its conversation, not that turn's activity.
            with log_context(conversation_id=conversation_id):
                await self._drain(conversation_id)
        except Exception:
            # The work stays in the outbox; the next wake-up (or restart) starts a new lane.
            log.exception("outbound lane for %s stopped", conversation_id)
        finally:
            self._lanes.pop(conversation_id, None)
            if not self._lanes:
                self._idle.set()

    async def _drain(self, conversation_id: str) -> None:
        while True:
            self._dirty.discard(conversation_id)
            job, conversation = await self._store.run(_head, conversation_id)
            if job is None or conversation is None or not conversation.active:
                if conversation_id in self._dirty:
                    continue
                return
            await self._deliver_safely(job, conversation)

    async def _deliver_safely(self, job: OutboxJob, conversation: Conversation) -> None:
        try:
            await self._deliver(job, conversation)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug or a database error must not kill the lane or spin on one job.
            log.exception("outbox job %s (%s) failed", job.id, job.kind)
            give_up = job.attempts + 1 >= self._policy.max_attempts
            not_before = self._clock() + self._policy.backoff(job.attempts)
            await self._store.run(_give_up_or_retry, job, give_up, not_before)

    async def _deliver(self, job: OutboxJob, conversation: Conversation) -> None:
        wait = job.not_before - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        operation = "members" if job.kind == "fetch_members" else "send"
        await self._budget.acquire(thread_key(conversation.id), conversation.tenant_id, operation)
        # Claim and render together: a change committed after this point queues a new update.
        request = await self._store.run(self._claim_and_prepare, job, conversation)
        if request is None:
            return
        result = await self._call(conversation, request)
        decision = self._policy.decide(result.status, result.error_code, result.retry_after,
                                       job.attempts, conversation.service_url)
        await self._store.run(self._settle, job, conversation, result, decision)

    def _claim_and_prepare(self, uow: UnitOfWork, job: OutboxJob, conversation: Conversation) -> Request | None:
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
        if job.kind == "send_card":
            return Request("send", activity)
        return Request("update", activity, card.activity_id)

    async def _call(self, conversation: Conversation, request: Request) -> ConnectorResult:
        url, conv_id = conversation.service_url, conversation.id
        if request.method == "send":
            return await self._connector.send(url, conv_id, request.activity)
        if request.method == "update":
            return await self._connector.update(url, conv_id, request.activity_id, request.activity)
        if request.method == "members":
            return await self._all_members(conversation)
        if request.method == "open_chat":
            return await self._connector.create_conversation(
                url, conversation.bot_id, request.activity["user_id"], conversation.tenant_id)
        return await self._delete(conversation, request)

    async def _delete(self, conversation: Conversation, request: Request) -> ConnectorResult:
        """Delete a message; a card Teams refuses to delete (501, or 403 in some clients) is replaced
        by its tombstone card instead, so no live buttons are left behind."""
        result = await self._connector.delete(conversation.service_url, conversation.id, request.activity_id)
        refused = result.status == 501 or (result.status == 403 and result.error_code not in NOT_ALLOWED_HERE)
        if not refused or request.activity is None:
            return result
        log.info("Teams would not delete %s (%s); replacing it with a 'deleted' card", request.activity_id, result.status)
        await self._budget.acquire(thread_key(conversation.id), conversation.tenant_id)
        return await self._connector.update(conversation.service_url, conversation.id, request.activity_id,
                                            request.activity)

    async def _all_members(self, conversation: Conversation) -> ConnectorResult:
        """Every page of the roster, each page within the members budget; body is the member list."""
        members, token = [], None
        for page in range(MEMBER_PAGES):
            if page:
                await self._budget.acquire(thread_key(conversation.id), conversation.tenant_id, "members")
            result = await self._connector.members_page(conversation.service_url, conversation.roster_id, token)
            if not 200 <= result.status < 300 or not isinstance(result.body, dict):
                return result
            members += [m for m in result.body.get("members") or [] if isinstance(m, dict) and m.get("id")]
            token = result.body.get("continuationToken")
            if not token:
                break
        return ConnectorResult(status=200, body=members)

    def _settle(self, uow: UnitOfWork, job: OutboxJob, conversation: Conversation,
                result: ConnectorResult, decision: Decision) -> None:
        if uow.conversations.get(conversation.id) is None:
            return  # erased meanwhile (the bot was uninstalled): nothing to record
        if decision.action is Action.DONE:
            uow.outbox.finish(job.id)
            if job.kind == "send_card":
                _remember_card_id(uow, job, result)
            elif job.kind == "send_message" and result.activity_id:
                card_id = job.card_id if job.card_id and uow.cards.get(job.card_id) else None
                uow.messages.record_sent(conversation.id, result.activity_id, card_id, shown(job.body.get("text", "")))
            elif job.kind == "fetch_members":
                uow.people.replace_members(conversation.id, [
                    (m["id"], m.get("name") or m.get("givenName") or "Someone", m.get("aadObjectId") or "")
                    for m in result.body
                ])
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


    def _personal_chat_opened(self, uow: UnitOfWork, origin: Conversation, body: dict[str, Any],
                              result: ConnectorResult) -> None:
        if not result.activity_id:
            log.warning("Teams opened no 1:1 chat with %s", body.get("user_id"))
            return
        chat = Conversation(id=result.activity_id, conversation_type="personal", tenant_id=origin.tenant_id,
                            service_url=origin.service_url, bot_id=origin.bot_id)
        uow.conversations.upsert(chat, reactivate=False)
        uow.people.remember_personal_chat(body["user_id"], chat.id)
        followup = self._followups.get(body.get("then", {}).get("kind"))
        if followup:
            followup(uow, chat.id, body["then"])


def _resume(uow: UnitOfWork) -> list[str]:
    uow.outbox.release_claims()
    return uow.outbox.conversations_with_work()


def _head(uow: UnitOfWork, conversation_id: str) -> tuple[OutboxJob | None, Conversation | None]:
    conversation = uow.conversations.get(conversation_id)
    if conversation is not None and conversation.suspended:
        # Nothing is posted into an archived team or a deleted channel; opening someone's
        # 1:1 chat from there (to tell them something) still goes ahead.
        return uow.outbox.head(conversation_id, ("open_personal_chat",)), conversation
    return uow.outbox.head(conversation_id), conversation


def _give_up_or_retry(uow: UnitOfWork, job: OutboxJob, give_up: bool, not_before: float) -> None:
    if give_up:
        uow.outbox.finish(job.id)
    else:
        uow.outbox.retry_later(job, not_before)


def _remember_card_id(uow: UnitOfWork, job: OutboxJob, result: ConnectorResult) -> None:
    if result.activity_id:
        uow.cards.set_activity_id(job.card_id, result.activity_id)
    else:
        log.warning("Teams returned no id for card %s; it cannot be updated in place", job.card_id)
