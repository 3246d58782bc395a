-- Poll options (issue 11): how many choices, anonymous, hidden results, a closing time,
-- and whether anyone may add options. Written once for SQLite and PostgreSQL.

-- With multiple choice: at most this many options per person (0: any number).
ALTER TABLE polls ADD COLUMN max_choices INTEGER NOT NULL DEFAULT 0;
-- 1: votes are stored under a keyed hash of the voter and the poll, never their id or name.
ALTER TABLE polls ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0;
-- 1: the tallies show only once the poll is closed (and to its creator).
ALTER TABLE polls ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
-- 1: anyone may add options (the creator always may).
ALTER TABLE polls ADD COLUMN anyone_adds INTEGER NOT NULL DEFAULT 0;
-- When the timer closes it (UTC, ISO 8601); NULL: only its creator does.
ALTER TABLE polls ADD COLUMN closes_at TEXT;
CREATE INDEX polls_by_deadline ON polls(status, closes_at);

-- A recent press is remembered by a keyed hash of the presser and the button: the button of a
-- vote names the option, and an anonymous poll's votes must not be traceable to anyone. The rows
-- only ever live an hour, so the old ones are simply dropped.
DROP TABLE recent_presses;
CREATE TABLE recent_presses (
    press_key       TEXT PRIMARY KEY,
    pressed_at      DOUBLE PRECISION NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recent_presses_by_time ON recent_presses(pressed_at);
CREATE INDEX recent_presses_by_conversation ON recent_presses(conversation_id);
