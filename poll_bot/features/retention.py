"""Retention (POLL_BOT_RETENTION_DAYS): closed polls and finished requests are deleted some
days after they closed, with their votes, audit, cards and 1:1 copies, the texts sent with
those cards and the outbound work still queued for them. Open polls and pending requests
are never touched. Messages already in Teams stay as they are; a button pressed on one gets
the usual notice that the poll or request is not here."""
from __future__ import annotations

from ..store import UnitOfWork

BATCH = 200  # subjects of each kind per transaction


def forget_finished(uow: UnitOfWork, closed_before: str) -> bool:
    """Delete one batch closed before this time; True if there may be more."""
    polls = uow.polls.closed_before(closed_before, BATCH)
    requests = uow.approvals.finished_before(closed_before, BATCH)
    # Cards name their subject without a foreign key, so they go first; their outbox rows,
    # texts, reactions and approval copies follow them, votes and audit follow their subject.
    uow.cards.delete_for_subjects("poll", polls)
    uow.cards.delete_for_subjects("approval", requests)
    uow.polls.delete_many(polls)
    uow.approvals.delete_many(requests)
    return len(polls) == BATCH or len(requests) == BATCH
