-- Chat lifecycle: installations, names, suspended conversations, message
-- edits and deletes, reactions, and quick replies in 1:1 chats.

-- Each installation the bot has welcomed: a team (by team id), a group chat or
-- a 1:1 chat (by conversation id). Uninstalling deletes the row, so a later
-- installation is welcomed again.
CREATE TABLE installations (
    scope_id     TEXT PRIMARY KEY,
    installed_at TEXT NOT NULL
);

-- Names shown in "My open polls"; renames update them.
ALTER TABLE conversations ADD COLUMN team_name TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN channel_name TEXT NOT NULL DEFAULT '';
-- Why posting there is on hold: '' (it isn't), 'team_archived' or 'channel_deleted'.
-- Outbound work stays queued and goes out when the hold ends.
ALTER TABLE conversations ADD COLUMN suspended TEXT NOT NULL DEFAULT '';

-- The user's `poll ...` message that created the poll, so editing or deleting
-- it can change or withdraw the poll.
ALTER TABLE polls ADD COLUMN command_message_id TEXT;
-- 1 while the command message is deleted: the card is removed and no one can vote.
ALTER TABLE polls ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0;
-- Why the bot (not a person) closed it: '' or 'channel_deleted' (reopened on restore).
ALTER TABLE polls ADD COLUMN closed_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN closed_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX polls_by_command_message ON polls(conversation_id, command_message_id);
CREATE INDEX polls_by_creator ON polls(creator_id, status);
CREATE INDEX approvals_by_requester ON approvals(requester_id, status);
CREATE INDEX cards_by_activity ON cards(conversation_id, activity_id);

-- So erasing a conversation also forgets which of its activities were handled.
ALTER TABLE processed_activities ADD COLUMN conversation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE recent_presses ADD COLUMN conversation_id TEXT NOT NULL DEFAULT '';
CREATE INDEX processed_activities_by_conversation ON processed_activities(conversation_id);
CREATE INDEX recent_presses_by_conversation ON recent_presses(conversation_id);

-- Text messages the bot sent: Teams' reaction events carry no content. card_id
-- is the card the text goes with (the quick replies under a poll or a request),
-- so removing the card removes its text too.
CREATE TABLE sent_messages (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    activity_id     TEXT NOT NULL,
    card_id         INTEGER REFERENCES cards(id) ON DELETE CASCADE,
    text            TEXT NOT NULL,
    sent_at         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, activity_id)
);
CREATE INDEX sent_messages_by_card ON sent_messages(card_id);

-- Reactions people put on the bot's messages. card_id ties a reaction to the
-- poll or request on that card; a reaction is never a vote.
CREATE TABLE reactions (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    activity_id     TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    reaction        TEXT NOT NULL,
    card_id         INTEGER REFERENCES cards(id) ON DELETE CASCADE,
    reacted_at      TEXT NOT NULL,
    PRIMARY KEY (conversation_id, activity_id, user_id, reaction)
);

-- The poll whose options were last offered as quick replies in a 1:1 chat.
CREATE TABLE offered_polls (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    poll_id         INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE
);

-- The audit learns three events. Nothing references approval_events, so it can be
-- rebuilt; DROP TABLE fires no triggers, and the triggers are recreated after.
CREATE TABLE approval_events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    approval_id INTEGER NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    event       TEXT NOT NULL CHECK (event IN ('created', 'decided', 'reassigned', 'cancelled', 'expired', 'reminded',
                                               'closed', 'reopened', 'approver_left')),
    detail      TEXT NOT NULL DEFAULT ''
);
INSERT INTO approval_events_new SELECT * FROM approval_events;
DROP TABLE approval_events;
ALTER TABLE approval_events_new RENAME TO approval_events;
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
