-- A voter's current choices are read on every press.
CREATE INDEX votes_by_user ON votes(poll_id, user_id);
