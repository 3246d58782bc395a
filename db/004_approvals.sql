CREATE TABLE approvals (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    requester_id    TEXT NOT NULL,
    requester_name  TEXT NOT NULL,
    title           TEXT NOT NULL,
    details         TEXT NOT NULL DEFAULT '',
    policy          TEXT NOT NULL CHECK (policy IN ('first', 'all', 'quorum', 'sequence')),
    quorum          INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'expired')),
    due_at          TEXT,
    created_at      TEXT NOT NULL,
    closed_at       TEXT
);
CREATE INDEX approvals_by_status_due ON approvals(status, due_at);

CREATE TABLE approval_approvers (
    approval_id INTEGER NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    decision    TEXT CHECK (decision IN ('approved', 'rejected')),
    comment     TEXT NOT NULL DEFAULT '',
    decided_at  TEXT,
    PRIMARY KEY (approval_id, position),
    UNIQUE (approval_id, user_id)
);
CREATE INDEX approvers_by_user ON approval_approvers(user_id);

-- The audit: every event on a request. Rows are never updated, and never
-- deleted on their own: only together with their request (privacy erasure).
CREATE TABLE approval_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    approval_id INTEGER NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    event       TEXT NOT NULL CHECK (event IN ('created', 'decided', 'reassigned', 'cancelled', 'expired', 'reminded')),
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approval_events_by_approval ON approval_events(approval_id, id);
CREATE TRIGGER approval_events_are_never_updated BEFORE UPDATE ON approval_events
BEGIN
    SELECT RAISE(ABORT, 'the approval audit is append-only');
END;
CREATE TRIGGER approval_events_are_never_deleted_alone BEFORE DELETE ON approval_events
WHEN EXISTS (SELECT 1 FROM approvals WHERE id = OLD.approval_id)
BEGIN
    SELECT RAISE(ABORT, 'the approval audit is append-only');
END;

-- Each user's 1:1 chat with the bot, learned from their messages or opened by the bot.
CREATE TABLE personal_chats (
    user_id         TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE
);

-- The members of a conversation, as last fetched from Teams.
CREATE TABLE conversation_members (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    aad_object_id   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, user_id)
);

-- Two more kinds of outbound work: reading a conversation's members, and
-- opening a 1:1 chat. SQLite cannot alter a CHECK, so the table is rebuilt.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('send_card', 'update_card', 'send_message', 'delete_message',
                                                  'fetch_members', 'open_personal_chat')),
    card_id         INTEGER REFERENCES cards(id) ON DELETE CASCADE,
    body            TEXT NOT NULL DEFAULT '{}',
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      REAL NOT NULL DEFAULT 0,
    claimed         INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE UNIQUE INDEX outbox_one_pending_update ON outbox(card_id) WHERE kind = 'update_card' AND claimed = 0;
CREATE INDEX outbox_by_conversation ON outbox(conversation_id, id);

-- The bot's own account id in the conversation (needed to open a 1:1 chat).
ALTER TABLE conversations ADD COLUMN bot_id TEXT NOT NULL DEFAULT '';

-- Each approver's 1:1 copy of a request, for read receipts and one reminder.
CREATE TABLE approval_copies (
    card_id     INTEGER PRIMARY KEY REFERENCES cards(id) ON DELETE CASCADE,
    approval_id INTEGER NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    read        INTEGER NOT NULL DEFAULT 0,
    reminded    INTEGER NOT NULL DEFAULT 0
);
