-- The schema of migrations 001 to 005, written for PostgreSQL. A new PostgreSQL
-- database starts here; later migrations in db/ apply to both databases (with an
-- NNN_name.pg.sql beside one where PostgreSQL needs its own text).
-- Ids are identity columns (BIGINT); seconds since the epoch are DOUBLE PRECISION
-- (REAL would be float4, which rounds today's times to about two minutes).

CREATE TABLE conversations (
    id                TEXT PRIMARY KEY,
    conversation_type TEXT NOT NULL,
    tenant_id         TEXT NOT NULL DEFAULT '',
    service_url       TEXT NOT NULL,
    name              TEXT NOT NULL DEFAULT '',
    team_id           TEXT NOT NULL DEFAULT '',
    channel_id        TEXT NOT NULL DEFAULT '',
    active            INTEGER NOT NULL DEFAULT 1,
    updated_at        TEXT NOT NULL,
    bot_id            TEXT NOT NULL DEFAULT '',
    team_name         TEXT NOT NULL DEFAULT '',
    channel_name      TEXT NOT NULL DEFAULT '',
    suspended         TEXT NOT NULL DEFAULT ''
);

CREATE TABLE polls (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    creator_id         TEXT NOT NULL,
    creator_name       TEXT NOT NULL,
    question           TEXT NOT NULL,
    multiple_choice    INTEGER NOT NULL CHECK (multiple_choice IN (0, 1)),
    status             TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at         TEXT NOT NULL,
    closed_at          TEXT,
    command_message_id TEXT,
    withdrawn          INTEGER NOT NULL DEFAULT 0,
    closed_reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX polls_by_conversation ON polls(conversation_id);
CREATE INDEX polls_by_command_message ON polls(conversation_id, command_message_id);
CREATE INDEX polls_by_creator ON polls(creator_id, status);

CREATE TABLE poll_options (
    poll_id  BIGINT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label    TEXT NOT NULL,
    PRIMARY KEY (poll_id, position)
);

CREATE TABLE votes (
    poll_id   BIGINT NOT NULL,
    position  INTEGER NOT NULL,
    user_id   TEXT NOT NULL,
    user_name TEXT NOT NULL,
    voted_at  TEXT NOT NULL,
    PRIMARY KEY (poll_id, position, user_id),
    FOREIGN KEY (poll_id, position) REFERENCES poll_options(poll_id, position) ON DELETE CASCADE
);
CREATE INDEX votes_by_user ON votes(poll_id, user_id, position);

CREATE TABLE cards (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    subject_id      BIGINT,
    owner_id        TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT '{}',
    activity_id     TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX cards_by_subject ON cards(kind, subject_id);
CREATE INDEX cards_by_activity ON cards(conversation_id, activity_id);

CREATE TABLE processed_activities (
    activity_key    TEXT PRIMARY KEY,
    received_at     TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX processed_activities_by_time ON processed_activities(received_at);
CREATE INDEX processed_activities_by_conversation ON processed_activities(conversation_id);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('send_card', 'update_card', 'send_message', 'delete_message',
                                                  'fetch_members', 'open_personal_chat')),
    card_id         BIGINT REFERENCES cards(id) ON DELETE CASCADE,
    body            TEXT NOT NULL DEFAULT '{}',
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      DOUBLE PRECISION NOT NULL DEFAULT 0,
    claimed         INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX outbox_one_pending_update ON outbox(card_id) WHERE kind = 'update_card' AND claimed = 0;
CREATE INDEX outbox_by_conversation ON outbox(conversation_id, id);

CREATE TABLE recent_presses (
    user_id         TEXT NOT NULL,
    press           TEXT NOT NULL,
    pressed_at      DOUBLE PRECISION NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, press)
);
CREATE INDEX recent_presses_by_time ON recent_presses(pressed_at);
CREATE INDEX recent_presses_by_conversation ON recent_presses(conversation_id);

CREATE TABLE approvals (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    closed_at       TEXT,
    closed_reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_by_status_due ON approvals(status, due_at);
CREATE INDEX approvals_by_requester ON approvals(requester_id, status);

CREATE TABLE approval_approvers (
    approval_id BIGINT NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
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
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    approval_id BIGINT NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    event       TEXT NOT NULL CHECK (event IN ('created', 'decided', 'reassigned', 'cancelled', 'expired', 'reminded',
                                               'closed', 'reopened', 'approver_left')),
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approval_events_by_approval ON approval_events(approval_id, id);

-- A trigger's WHEN cannot hold a subquery in PostgreSQL, so the function checks
-- whether the request still exists (a cascade from deleting it runs after it is gone).
CREATE FUNCTION approval_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' OR EXISTS (SELECT 1 FROM approvals WHERE id = OLD.approval_id) THEN
        RAISE EXCEPTION 'the approval audit is append-only' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER approval_events_are_append_only BEFORE UPDATE OR DELETE ON approval_events
    FOR EACH ROW EXECUTE FUNCTION approval_events_append_only();

CREATE TABLE personal_chats (
    user_id         TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE
);

CREATE TABLE conversation_members (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    name            TEXT NOT NULL,
    aad_object_id   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, user_id)
);

CREATE TABLE approval_copies (
    card_id     BIGINT PRIMARY KEY REFERENCES cards(id) ON DELETE CASCADE,
    approval_id BIGINT NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    read        INTEGER NOT NULL DEFAULT 0,
    reminded    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE installations (
    scope_id     TEXT PRIMARY KEY,
    installed_at TEXT NOT NULL
);

CREATE TABLE sent_messages (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    activity_id     TEXT NOT NULL,
    card_id         BIGINT REFERENCES cards(id) ON DELETE CASCADE,
    text            TEXT NOT NULL,
    sent_at         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, activity_id)
);
CREATE INDEX sent_messages_by_card ON sent_messages(card_id);

CREATE TABLE reactions (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    activity_id     TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    reaction        TEXT NOT NULL,
    card_id         BIGINT REFERENCES cards(id) ON DELETE CASCADE,
    reacted_at      TEXT NOT NULL,
    PRIMARY KEY (conversation_id, activity_id, user_id, reaction)
);

CREATE TABLE offered_polls (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    poll_id         BIGINT NOT NULL REFERENCES polls(id) ON DELETE CASCADE
);
