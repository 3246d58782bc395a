-- "Remind people who haven't voted": each person is reminded at most once per poll. An anonymous
-- poll's rows hold the same keyed hash its votes do, never the person's id.
CREATE TABLE poll_reminders (
    poll_id     BIGINT NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    person      TEXT NOT NULL,
    reminded_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, person)
);
