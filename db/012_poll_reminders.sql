-- "Remind people who haven't voted": each person is reminded at most once per poll. An anonymous
-- poll's rows hold a keyed hash of the person and the poll, never the person's id, and of another
-- kind than its votes' (signing.Pseudonyms.reminded), so a reminder cannot be joined to a vote.
CREATE TABLE poll_reminders (
    poll_id     BIGINT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    person      TEXT NOT NULL,
    reminded_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, person)
);
