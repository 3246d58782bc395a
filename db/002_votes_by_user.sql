-- A voter's current choices are read on every press. Covering, so the planner
-- prefers it to the primary key (which would scan every vote of the poll).
CREATE INDEX votes_by_user ON votes(poll_id, user_id, position);
