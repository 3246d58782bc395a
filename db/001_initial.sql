-- Conversations the bot has heard from. service_url is refreshed on every
-- inbound activity and used for every later call toward Teams.
CREATE TABLE conversations (
    id                TEXT PRIMARY KEY,
    conversation_type TEXT NOT NULL,
    tenant_id         TEXT NOT NULL DEFAULT '',
    service_url       TEXT NOT NULL,
    name              TEXT NOT NULL DEFAULT '',
    team_id           TEXT NOT NULL DEFAULT '',
    channel_id        TEXT NOT NULL DEFAULT '',
    -- 0 after Teams said the bot may not post here (403); a user message resets it.
    active            INTEGER NOT NULL DEFAULT 1,
    updated_at        TEXT NOT NULL
);

CREATE TABLE polls (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    creator_id      TEXT NOT NULL,
    creator_name    TEXT NOT NULL,
    question        TEXT NOT NULL,
    multiple_choice INTEGER NOT NULL CHECK (multiple_choice IN (0, 1)),
    status          TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at      TEXT NOT NULL,
    closed_at       TEXT
);
CREATE INDEX polls_by_conversation ON polls(conversation_id);

CREATE TABLE poll_options (
    poll_id  INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label    TEXT NOT NULL,
    PRIMARY KEY (poll_id, position)
);

-- One row per user and chosen option.
CREATE TABLE votes (
    poll_id   INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    user_id   TEXT NOT NULL,
    user_name TEXT NOT NULL,
    voted_at  TEXT NOT NULL,
    PRIMARY KEY (poll_id, position, user_id),
    FOREIGN KEY (poll_id, position) REFERENCES poll_options(poll_id, position) ON DELETE CASCADE
);

-- Every card the bot may later update in place. activity_id is the id the
-- connector returned when the card was sent (never the client's replyToId).
CREATE TABLE cards (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    subject_id      INTEGER,
    owner_id        TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT '{}',
    activity_id     TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX cards_by_subject ON cards(kind, subject_id);

-- Activity ids already handled: Teams may deliver the same activity twice.
CREATE TABLE processed_activities (
    activity_key TEXT PRIMARY KEY,
    received_at  TEXT NOT NULL
);

-- Durable outbound work toward Teams. An unclaimed card update is unique per
-- card, so repeated updates of one card coalesce into one row.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('send_card', 'update_card', 'send_message', 'delete_message')),
    card_id         INTEGER REFERENCES cards(id) ON DELETE CASCADE,
    body            TEXT NOT NULL DEFAULT '{}',
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      REAL NOT NULL DEFAULT 0,
    claimed         INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX outbox_one_pending_update ON outbox(card_id) WHERE kind = 'update_card' AND claimed = 0;
CREATE INDEX outbox_by_conversation ON outbox(conversation_id, id);
